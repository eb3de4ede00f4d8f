"""Slack adapter: members ask by @mention, DM, thread follow-up and `/guide`; answers come as Block Kit.

Plugs into guidebot through the `guidebot.adapters` entry point (`mount`) and
the `guidebot.cli` entry point (`slack-manifest`). Bolt and the Web API client
are imported by `mount`, not with the package, so commands that never serve
(`guidebot index`, `ask`, `eval` …) start without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.service import Guidebot
    from adapters.slack.settings import SlackSettings
    from bot.settings import Settings


def mount(app: web.Application, guidebot: Guidebot, settings: Settings, slack: SlackSettings | None = None) -> None:
    """The `guidebot.adapters` entry point: adds `POST /slack/events` and the Socket Mode hooks.

    Slack's credentials come from `SLACK_*` (`SlackSettings`) unless `slack` is given, as tests do.
    """
    from adapters.slack.app import mount as mount_slack

    mount_slack(app, guidebot, settings, slack)


__all__ = ["mount"]
