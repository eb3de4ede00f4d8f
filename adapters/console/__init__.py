"""The web console: one page to try guidebot without Slack or Teams.

`GET /` serves a static page (HTML, CSS and vanilla JavaScript, no build step)
that talks to the console's JSON API (`/api/ask` and `/api/feedback`,
`adapters.console.api`; `/api/handoff` when hand-offs are on,
`adapters.console.handoff`). Everything the page shows from an answer, a
document or the program team is inserted as text, never as HTML.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from adapters.console.api import MAX_ASK_BYTES, PLATFORM, ConsoleApi
from adapters.console.handoff import ConsoleHandoffs
from adapters.console.session import SESSION_COOKIE, session_id, set_session_cookie
from bot.service import Guidebot
from bot.settings import Settings

STATIC = Path(__file__).parent / "static"

__all__ = ["MAX_ASK_BYTES", "PLATFORM", "SESSION_COOKIE", "STATIC", "mount"]


def mount(app: web.Application, guidebot: Guidebot, settings: Settings) -> None:
    """The page, its files, its API and its hand-offs' messenger (the `guidebot.adapters` entry point `console`).
    The desk's loop is started by the staff place's adapter (Slack or Teams), not here."""

    async def page(request: web.Request) -> web.FileResponse:
        response = web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
        session, new = session_id(request)
        if new:
            set_session_cookie(response, session, settings)
        return response

    app.router.add_get("/", page, name="console")
    app.router.add_static("/console/", STATIC, name="console-static")
    ConsoleApi(guidebot, settings).mount(app)
    ConsoleHandoffs(guidebot, settings).mount(app)
