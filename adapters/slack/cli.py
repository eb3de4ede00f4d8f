"""`guidebot slack-manifest`: print the Slack app manifest for this server (entry point `guidebot.cli: slack`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Optional

import typer

from bot.settings import Settings


def _prompts(settings: Settings) -> list[str]:
    """The assistant's suggested prompts, from the index when one is built (else none: Slack is fine)."""
    try:
        from bot.summaries import suggested_prompts
        from index.guide_index import load_index

        return suggested_prompts(load_index(settings.index_dir), limit=4)
    except Exception:  # noqa: BLE001 - no index yet: the prompts are also set live, per thread
        return []


def register(app: typer.Typer, get_settings: Callable[[], Settings]) -> None:
    @app.command("slack-manifest")
    def slack_manifest(
        url: Annotated[
            Optional[str],
            typer.Option("--url", help="The server's public base URL, e.g. https://bot.example.org (default: GUIDEBOT_PUBLIC_URL)."),
        ] = None,
        name: Annotated[str, typer.Option("--name", help="The app's and bot user's name in Slack.")] = "guidebot",
        socket_mode: Annotated[
            bool, typer.Option("--socket-mode", help="For workspaces that cannot reach the server: events over a WebSocket (needs SLACK_APP_TOKEN).")
        ] = False,
        assistant: Annotated[
            bool, typer.Option("--assistant/--no-assistant", help="Enable Slack's assistant surface (suggested prompts, status).")
        ] = True,
    ) -> None:
        """Print a Slack app manifest (YAML): bot user, /guide, events, interactivity, minimal scopes."""
        from adapters.slack.manifest import build_manifest, manifest_yaml

        settings = get_settings()
        base = url or settings.public_url
        if not base and not socket_mode:
            typer.echo("error: give --url https://your-server (or set GUIDEBOT_PUBLIC_URL), or use --socket-mode", err=True)
            raise typer.Exit(2)
        if base and not base.startswith(("https://", "http://")):
            typer.echo(f"error: --url must start with https:// (got {base!r})", err=True)
            raise typer.Exit(2)
        prompts = _prompts(settings) if assistant else []
        typer.echo(manifest_yaml(build_manifest(base, name=name, socket_mode=socket_mode, assistant=assistant, suggested_prompts=prompts)), nl=False)
