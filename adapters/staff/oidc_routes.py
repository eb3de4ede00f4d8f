"""Single sign-on to the staff dashboard over HTTP: the OpenID Connect authorization-code flow with PKCE.

- `POST /staff/sign-in/oidc` (the sign-in page's "Sign in with single sign-on" button): sends the browser to
  the provider with a fresh state, nonce and PKCE challenge; the state, nonce and verifier wait in a cookie
  (HttpOnly, SameSite=Lax, ten minutes, path `/staff/sign-in/oidc`, Secure under an https public URL).
- `GET /staff/sign-in/oidc/callback`: the provider sends the browser back here; the code is redeemed at the
  token endpoint, the ID token checked (`bot.staff.oidc`), and the staff member signed in with the same
  session cookie as an invite link gives. Rate-limited as the invite sign-in is.

Without `GUIDEBOT_OIDC_ISSUER` and `GUIDEBOT_OIDC_CLIENT_ID` both routes answer 404. The provider's
discovery document and key set are fetched when first needed and kept for an hour (the key set is
fetched again at once when a token names a key it lacks); a provider that cannot be reached, or that
publishes something unusable, gives the staff member a page saying so (502), never an error trace.
Every refusal goes to the audit log as "sign-in refused (oidc)" with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from adapters.staff.pages import sign_in_page
from bot.http import json_error
from bot.staff.oidc import CALLBACK_PATH, OidcClient, Pending, ProviderMetadata, ProviderUnusable, Refused, UnknownKey, admit, verify_id_token

if TYPE_CHECKING:
    from adapters.staff import StaffPages

log = logging.getLogger("guidebot.staff.oidc")

START_PATH = "/staff/sign-in/oidc"
FLOW_COOKIE = "guidebot_staff_oidc"
FLOW_SECONDS = 600
CACHE_SECONDS = 3600.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
UNREACHABLE = "The sign-in service could not be reached or answered in a way the dashboard cannot use. Try again in a few minutes; meanwhile a colleague can invite you with a one-time link."


def _html(text: str, status: int) -> web.Response:
    return web.Response(text=text, content_type="text/html", status=status, headers={"Cache-Control": "no-store"})


class OidcRoutes:
    """The two single sign-on routes, and the provider's discovery document and keys, cached."""

    def __init__(self, pages: StaffPages) -> None:
        self.pages = pages
        self.client = OidcClient.from_settings(pages.settings, pages.desk.base_url())
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._jwks: tuple[float, Any] | None = None

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def mount(self, app: web.Application) -> None:
        app.router.add_get(START_PATH, self.start_page)
        app.router.add_post(START_PATH, self.start)
        app.router.add_get(CALLBACK_PATH, self.callback)

    # ------------------------------------------------------------ the provider

    async def _get_json(self, url: str) -> Any:
        try:
            async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session, session.get(url, headers={"Accept": "application/json"}) as response:
                if response.status != 200:
                    raise ProviderUnusable(f"{url} answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise ProviderUnusable(f"{url}: {type(error).__name__}") from error

    async def metadata(self, client: OidcClient) -> ProviderMetadata:
        if self._metadata is None or self._metadata[0] < time.monotonic():
            meta = ProviderMetadata.parse(await self._get_json(client.discovery_url), client)
            self._metadata = (time.monotonic() + CACHE_SECONDS, meta)
        return self._metadata[1]

    async def jwks(self, meta: ProviderMetadata, *, fresh: bool = False) -> Any:
        if fresh or self._jwks is None or self._jwks[0] < time.monotonic():
            self._jwks = (time.monotonic() + CACHE_SECONDS, await self._get_json(meta.jwks_uri))
        return self._jwks[1]

    async def redeem(self, meta: ProviderMetadata, client: OidcClient, pending: Pending, code: str) -> dict[str, Any]:
        """The token endpoint's answer for `code`; `Refused` when it turns the code down."""
        body, headers = pending.token_request(meta, client, code)
        try:
            async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session, session.post(meta.token_endpoint, data=body, headers=headers) as response:
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise ProviderUnusable(f"token endpoint: {type(error).__name__}") from error
        if not isinstance(answer, dict):
            raise ProviderUnusable("the token endpoint's answer is not a JSON object")
        if status != 200 or not isinstance(answer.get("id_token"), str):
            error_code = str(answer.get("error", "no ID token"))[:64]
            raise Refused(f"token endpoint refused the code: {error_code}", "The sign-in service would not complete this sign-in. Start again from the sign-in page.")
        return answer

    # ------------------------------------------------------------ routes

    async def start_page(self, request: web.Request) -> web.StreamResponse:
        if not self.enabled:
            raise web.HTTPNotFound()
        raise web.HTTPSeeOther("/staff/sign-in")

    async def start(self, request: web.Request) -> web.StreamResponse:
        if self.client is None:
            raise web.HTTPNotFound()
        if self.pages.cross_site(request):
            return json_error(403, "forbidden", "Sign in from the staff dashboard's own page.")
        try:
            meta = await self.metadata(self.client)
        except ProviderUnusable as error:
            return await self.unreachable(error)
        pending = Pending.new()
        response = web.HTTPSeeOther(pending.authorization_url(meta, self.client))
        response.set_cookie(
            FLOW_COOKIE, pending.cookie(), max_age=FLOW_SECONDS, path=START_PATH, httponly=True, samesite="Lax", secure=self.pages.secure
        )
        raise response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        if self.client is None:
            raise web.HTTPNotFound()
        pending = Pending.from_cookie(request.cookies.get(FLOW_COOKIE))
        try:
            session = await self.finish(request, self.client, pending)
        except Refused as refusal:
            response: web.StreamResponse = await self.refuse(refusal)
        except ProviderUnusable as error:
            response = await self.unreachable(error)
        else:
            response = self.pages.session_response(session)
        response.del_cookie(FLOW_COOKIE, path=START_PATH)
        return response

    async def finish(self, request: web.Request, client: OidcClient, pending: Pending | None) -> str:
        """The callback's checks in the order the protocol needs them: the new session's token, or `Refused`."""
        query = request.query
        state_ok = pending is not None and pending.matches(query.get("state", ""))
        if "error" in query:
            code = query["error"] if _ERROR_CODE.match(query["error"]) else "error"
            detail = f"provider error: {code} {query.get('error_description', '')[:150]}".strip()
            said = "you declined, or are not allowed to use this application" if code == "access_denied" else f"“{code}”"
            raise Refused(detail if state_ok else detail + " (state did not match)", f"The sign-in service did not sign you in ({said}). Start again from the sign-in page.")
        if pending is None or not state_ok:
            raise Refused("bad state", "This sign-in did not start from this browser's sign-in page, or took longer than ten minutes. Start again from the sign-in page.")
        if not query.get("code"):
            raise Refused("no code", "The sign-in service sent you back without signing you in. Start again from the sign-in page.")
        meta = await self.metadata(client)
        answer = await self.redeem(meta, client, pending, query["code"])
        access = answer.get("access_token") if isinstance(answer.get("access_token"), str) else None
        try:
            claims = verify_id_token(answer["id_token"], await self.jwks(meta), meta, client, pending.nonce, access)
        except UnknownKey:
            try:
                claims = verify_id_token(answer["id_token"], await self.jwks(meta, fresh=True), meta, client, pending.nonce, access)
            except UnknownKey as error:
                raise Refused("bad ID token: signed with a key the provider does not publish", "The sign-in service's answer could not be accepted. Tell the dashboard's administrator.") from error
        session, _member = await asyncio.to_thread(admit, self.pages.desk, claims, client.policy)
        return session

    async def refuse(self, refusal: Refused) -> web.Response:
        await asyncio.to_thread(self.pages.desk.record, refusal.who, "sign-in refused (oidc)", refusal.reason)
        return _html(sign_in_page(None, problem=refusal.message, sso=True), status=403)

    async def unreachable(self, error: ProviderUnusable) -> web.Response:
        log.warning("single sign-on provider unusable: %s", error)
        await asyncio.to_thread(self.pages.desk.record, "(unknown)", "sign-in refused (oidc)", f"provider unusable: {error}")
        return _html(sign_in_page(None, problem=UNREACHABLE, sso=True), status=502)
