"""The console's anonymous member: a random id in a cookie, nothing else about the browser.

The id is what the question log hashes as the console's member, so a vote is
taken only on an answer that browser was given (`adapters.console.api`).
"""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from bot.settings import Settings

SESSION_COOKIE = "guidebot_session"
SESSION_MAX_AGE = 180 * 24 * 3600
_SESSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def known_session(request: web.Request) -> str | None:
    """The session id the browser sent, when it is one the console could have given."""
    value = request.cookies.get(SESSION_COOKIE, "")
    return value if _SESSION.match(value) else None


def session_id(request: web.Request) -> tuple[str, bool]:
    """The browser's session id and whether it is new (then the response must set the cookie)."""
    value = known_session(request)
    if value is not None:
        return value, False
    return secrets.token_urlsafe(18), True


def set_session_cookie(response: web.StreamResponse, value: str, settings: Settings) -> None:
    """HTTP-only, same-site, and `Secure` whenever the console is served over HTTPS."""
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    response.set_cookie(
        SESSION_COOKIE, value, max_age=SESSION_MAX_AGE, path="/", httponly=True, samesite="Lax", secure=secure
    )
