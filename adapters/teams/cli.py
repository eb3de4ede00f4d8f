"""`guidebot teams-package`: the zip a Teams admin uploads (the `guidebot.cli` entry point)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings


def register(app: typer.Typer, get_settings: Callable[[], Settings]) -> None:
    @app.command("teams-package")
    def teams_package(
        app_id: Annotated[str, typer.Option("--app-id", help="The bot's Microsoft App ID (a GUID), as registered in Azure.")],
        url: Annotated[str, typer.Option("--url", help="The bot's public https URL, e.g. https://bot.example.org.")],
        out: Annotated[Path, typer.Option("--out", help="Where to write the zip.")] = Path("guidebot-teams.zip"),
        version: Annotated[str, typer.Option("--version", help="The app's version; raise it for every update.")] = "1.0.0",
        developer: Annotated[str, typer.Option("--developer", help="Publisher name shown in Teams.")] = "guidebot",
        privacy_url: Annotated[str | None, typer.Option("--privacy-url", help="Defaults to --url.")] = None,
        terms_url: Annotated[str | None, typer.Option("--terms-url", help="Defaults to --url.")] = None,
    ) -> None:
        """Write the Teams app package: manifest (commands and prompt starters from the index) and icons."""
        from adapters.teams.package import index_starters, manifest, menu_commands, package_bytes
        from bot.commands import HELP_EXAMPLES
        from index.guide_index import load_index
        from index.persist import IndexMissingError

        try:
            index = load_index(get_settings().index_dir)
        except IndexMissingError as exc:
            typer.echo(f"error: {exc} Run `guidebot index` first: prompt starters come from the index.", err=True)
            raise typer.Exit(1) from exc
        starters = index_starters(index)
        try:
            content = manifest(
                app_id=app_id,
                url=url,
                commands=menu_commands(HELP_EXAMPLES),
                starters=starters,
                version=version,
                developer=developer,
                privacy_url=privacy_url,
                terms_url=terms_url,
            )
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(package_bytes(content))
        typer.echo(f"Wrote {out} ({len(starters)} prompt starters). Upload it in Teams: Apps › Manage your apps › Upload an app.")
