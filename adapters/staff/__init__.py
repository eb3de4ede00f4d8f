"""The staff dashboard at `/staff`: sign-in by invite link, and the overview (the `guidebot.adapters` entry point `staff`).

- `GET /staff/sign-in?token=…`: a page with one button that spends the link (so a mail scanner's or a
  chat preview's GET never does); `POST /staff/sign-in` spends it, sets the session cookie and goes to
  `/staff`. Rate-limited per client address (429 past `staff_sign_in_per_minute`).
- `POST /staff/sign-in/oidc`, `GET /staff/sign-in/oidc/callback`: single sign-on through an OpenID Connect
  provider, when one is set up (`adapters.staff.oidc_routes`); the callback is rate-limited as the sign-in is.
- `POST /staff/sign-out`: ends the session.
- `GET /staff?days=7|30|90|365`: the overview page; `GET /staff/api/overview?days=N`: its numbers as JSON.

Everything under `/staff` but the sign-in needs a signed-in staff member: a page sends the browser
to the sign-in page, JSON gets 401. Every state-changing request must come from this site (not a
cross-site `Origin` or `Sec-Fetch-Site`) and carry the session's CSRF token (form field `csrf` or
header `X-CSRF-Token`), else 403. The cookie is HttpOnly, SameSite=Lax, path `/staff`, and Secure
under an https public URL. Sign-ins, sign-outs and refusals go to the audit log (`StaffDesk`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from adapters.staff.guide_routes import GuideRoutes
from adapters.staff.handoffs import HandoffRoutes
from adapters.staff.oidc_routes import CALLBACK_PATH, OidcRoutes
from adapters.staff.pages import not_found_page, overview_page, sign_in_page
from adapters.staff.unanswered import UnansweredRoutes
from bot.http import RateLimiter, client_address, json_error, throttle
from bot.service import Guidebot
from bot.settings import Settings
from bot.staff import SignedIn, StaffDesk, csrf_ok, period_days

log = logging.getLogger("guidebot.staff")

STATIC = Path(__file__).parent / "static"
STAFF_COOKIE = "guidebot_staff"
_MEMBER: Any = getattr(web, "RequestKey", lambda name, _type: name)("staff_member", SignedIn)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = ["STAFF_COOKIE", "STATIC", "StaffPages", "mount"]


def mount(app: web.Application, guidebot: Guidebot, settings: Settings) -> None:
    StaffPages(guidebot, settings).mount(app)


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, content_type="text/html", status=status, headers={"Cache-Control": "no-store"})


class StaffPages:
    """The dashboard's routes over one core (its `StaffDesk` and, for the Unanswered and Hand-offs pages, the rest)."""

    def __init__(self, guidebot: Guidebot, settings: Settings) -> None:
        self.guidebot = guidebot
        self.desk: StaffDesk = guidebot.staff
        self.settings = settings
        self.secure = bool(settings.public_url and settings.public_url.startswith("https://"))
        self.sign_ins = RateLimiter(settings.staff_sign_in_per_minute)
        self.oidc = OidcRoutes(self)

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/staff/sign-in", self.sign_in_form)
        app.router.add_post("/staff/sign-in", self.sign_in)
        throttle(app, "POST", "/staff/sign-in", self.wait)
        self.oidc.mount(app)
        throttle(app, "GET", CALLBACK_PATH, self.wait)
        app.router.add_post("/staff/sign-out", self.guard(self.sign_out))
        app.router.add_get("/staff", self.guard(self.overview))
        app.router.add_get("/staff/", self.guard(self.overview))
        app.router.add_get("/staff/api/overview", self.guard(self.overview_json))
        UnansweredRoutes(self).mount(app)
        HandoffRoutes(self).mount(app)
        GuideRoutes(self).mount(app)
        app.router.add_route("*", "/staff/{rest:.*}", self.guard(self.not_found))
        app.router.add_static("/staff-assets/", STATIC, name="staff-assets")

    def wait(self, request: web.Request) -> float:
        return self.sign_ins.take(client_address(request, self.settings.trusted_proxy_networks))

    # ------------------------------------------------------------ guarding

    def cross_site(self, request: web.Request) -> bool:
        """A request another site's page made: its browser says so (`Sec-Fetch-Site`), or its `Origin` is not ours."""
        if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
            return True
        origin = request.headers.get("Origin")
        if origin is None:
            return False
        ours = {request.host.lower()}
        if self.settings.public_url:
            ours.add(urlsplit(self.settings.public_url).netloc.lower())
        return urlsplit(origin).netloc.lower() not in ours

    def guard(self, handler: Handler) -> Handler:
        """A signed-in staff member only (pages: to the sign-in page; JSON: 401); a change also needs
        to come from this site with the session's CSRF token (else 403)."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            session = request.cookies.get(STAFF_COOKIE)
            member = await asyncio.to_thread(self.desk.signed_in, session)
            if member is None or session is None:
                if request.path.startswith("/staff/api/"):
                    return json_error(401, "sign_in_required", "Sign in to the staff dashboard first.")
                if request.method in _SAFE_METHODS:
                    raise web.HTTPSeeOther("/staff/sign-in")
                return _html(sign_in_page(None, problem="Your session has ended: sign in again.", sso=self.oidc.enabled), status=401)
            if request.method not in _SAFE_METHODS:
                offered = request.headers.get("X-CSRF-Token")
                if offered is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                    offered = str((await request.post()).get("csrf", "")) or None
                if self.cross_site(request) or not csrf_ok(session, offered):
                    await asyncio.to_thread(self.desk.record, member.email, "refused: cross-site or no CSRF token", request.path)
                    return json_error(403, "forbidden", "This request did not come from the staff dashboard.")
            request[_MEMBER] = member
            return await handler(request)

        return guarded

    def member(self, request: web.Request) -> SignedIn:
        """Who is signed in, for a handler behind `guard`."""
        member: SignedIn = request[_MEMBER]
        return member

    # ------------------------------------------------------------ signing in and out

    async def sign_in_form(self, request: web.Request) -> web.StreamResponse:
        if await asyncio.to_thread(self.desk.signed_in, request.cookies.get(STAFF_COOKIE)) is not None:
            raise web.HTTPSeeOther("/staff")
        return _html(sign_in_page(request.query.get("token"), sso=self.oidc.enabled))

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        if self.cross_site(request):
            return json_error(403, "forbidden", "Sign in from the staff dashboard's own page.")
        token = str((await request.post()).get("token", ""))
        made = await asyncio.to_thread(self.desk.sign_in, token)
        if made is None:
            problem = "This sign-in link has been used, has expired or was revoked. Ask a colleague for a new one."
            return _html(sign_in_page(None, problem=problem, sso=self.oidc.enabled), status=403)
        session, _member = made
        return self.session_response(session)

    def session_response(self, session: str) -> web.Response:
        """To the overview, signed in: the session cookie, whichever way the staff member signed in."""
        response = web.Response(status=303, headers={"Location": "/staff", "Cache-Control": "no-store"})
        response.set_cookie(
            STAFF_COOKIE,
            session,
            max_age=int(self.settings.staff_session_hours * 3600),
            path="/staff",
            httponly=True,
            samesite="Lax",
            secure=self.secure,
        )
        return response

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        member: SignedIn = request[_MEMBER]
        await asyncio.to_thread(self.desk.sign_out, request.cookies.get(STAFF_COOKIE, ""), member.email)
        response = web.HTTPSeeOther("/staff/sign-in")
        response.del_cookie(STAFF_COOKIE, path="/staff")
        raise response

    # ------------------------------------------------------------ pages

    async def overview(self, request: web.Request) -> web.StreamResponse:
        member: SignedIn = request[_MEMBER]
        built = await asyncio.to_thread(self.desk.overview, period_days(request.query.get("days")))
        return _html(overview_page(built, member.email, member.csrf))

    async def overview_json(self, request: web.Request) -> web.StreamResponse:
        built = await asyncio.to_thread(self.desk.overview, period_days(request.query.get("days")))
        return web.json_response(built.to_json(), headers={"Cache-Control": "no-store"})

    async def not_found(self, request: web.Request) -> web.StreamResponse:
        member: SignedIn = request[_MEMBER]
        if request.path.startswith("/staff/api/"):
            return json_error(404, "not_found", "No such staff API.")
        return _html(not_found_page(member.email, member.csrf), status=404)
