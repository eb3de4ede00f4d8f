"""Microsoft Teams: chat, group chat and channel @mentions through the Bot Framework.

Every botbuilder import lives in this package, so a later move to the Microsoft
365 Agents SDK touches nothing outside it. The renderers (`cards`, `citations`,
`replies`, `text`) are pure and import no SDK at all; `bot` holds the behaviour
and `app` the start-up wiring, as in Microsoft's `app.py` + `bots/*.py` samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.service import Guidebot
    from adapters.teams.settings import TeamsSettings
    from bot.settings import Settings


def mount(app: web.Application, guidebot: Guidebot, settings: Settings, teams: TeamsSettings | None = None) -> None:
    """The `guidebot.adapters` entry point: adds `POST /api/messages`.

    The SDK is imported here, not at package import, so `guidebot --help` and the
    `teams-package` command stay quick.
    """
    from adapters.teams.app import mount as mount_teams

    mount_teams(app, guidebot, settings, teams)


__all__ = ["mount"]
