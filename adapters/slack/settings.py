"""Slack's credentials and options, read when the Slack adapter is mounted, not by the core.

Same variables as always (`SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET`, `SLACK_APP_TOKEN`,
`SLACK_API_URL`), from the environment or `.env`; the core's `Settings` knows nothing of Slack.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLACK_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str | None = None
    signing_secret: str | None = None
    # Socket Mode: events over a WebSocket, for workspaces that cannot reach the server.
    app_token: str | None = None
    # The Web API's base: GovSlack, or a local fake in tests and benchmarks.
    api_url: str = "https://slack.com/api/"
