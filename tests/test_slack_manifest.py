"""`guidebot slack-manifest`: the YAML an admin pastes into Slack to create the app."""

from __future__ import annotations

from typing import Any

import typer
import yaml
from typer.testing import CliRunner

from adapters.slack.cli import register
from adapters.slack.manifest import build_manifest
from bot.summaries import suggested_prompts

runner = CliRunner()


def cli(settings: Any) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """guidebot"""

    register(app, lambda: settings)
    return app


def test_the_manifest_wires_events_commands_and_interactivity_to_the_server(guide_settings: Any, guide_index: Any) -> None:
    result = runner.invoke(cli(guide_settings), ["slack-manifest", "--url", "https://bot.example.org/"])
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.output)
    url = "https://bot.example.org/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert manifest["settings"]["socket_mode_enabled"] is False
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/guide" and command["url"] == url and "role vpma" in command["usage_hint"]
    assert manifest["features"]["bot_user"]["display_name"] == "guidebot"
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "message.channels", "message.groups", "assistant_thread_started", "assistant_thread_context_changed",
    }
    assert manifest["oauth_config"]["scopes"]["bot"] == sorted(
        ["app_mentions:read", "assistant:write", "channels:history", "chat:write", "commands", "groups:history", "im:history", "im:write", "users:read"]
    )
    assert len(manifest["display_information"]["long_description"]) >= 174, "Slack's minimum"


def test_the_assistant_view_offers_prompts_from_the_index(guide_settings: Any, guide_index: Any) -> None:
    manifest = yaml.safe_load(runner.invoke(cli(guide_settings), ["slack-manifest", "--url", "https://bot.example.org"]).output)
    view = manifest["features"]["assistant_view"]
    assert view["assistant_description"]
    assert [p["message"] for p in view["suggested_prompts"]] == suggested_prompts(guide_index, limit=4)


def test_socket_mode_and_no_assistant_leave_out_urls_and_the_assistant_scope(guide_settings: Any) -> None:
    result = runner.invoke(cli(guide_settings), ["slack-manifest", "--socket-mode", "--no-assistant"])
    assert result.exit_code == 0, result.output
    manifest = yaml.safe_load(result.output)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "assistant_view" not in manifest["features"] and "assistant:write" not in manifest["oauth_config"]["scopes"]["bot"]


def test_a_url_is_required_unless_socket_mode(guide_settings: Any) -> None:
    result = runner.invoke(cli(guide_settings.model_copy(update={"public_url": None})), ["slack-manifest"])
    assert result.exit_code == 2 and "--url" in result.output
    assert runner.invoke(cli(guide_settings), ["slack-manifest", "--url", "bot.example.org"]).exit_code == 2
    assert build_manifest("https://x.org", assistant=False)["oauth_config"]["scopes"]["bot"][0] == "app_mentions:read"


def test_the_guidebot_cli_has_the_command_through_its_entry_point() -> None:
    from bot.cli import app

    result = runner.invoke(app, ["slack-manifest", "--help"])
    assert result.exit_code == 0 and "--url" in result.output
