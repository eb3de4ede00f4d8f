"""Single sign-on to the staff dashboard, through the real server and a local OpenID Connect provider.

A browser (an HTTP client that keeps cookies and follows redirects) presses "Sign in with single
sign-on", goes to the provider (`guidebot_testing.oidc`, which approves its user at once), and comes
back signed in, or to a page that says why not; every refusal is in the audit log. The server is the
staff dashboard mounted on a core over a fresh database; the guide's index is never loaded (no page
here asks a question).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.staff import STAFF_COOKIE
from adapters.staff import mount as mount_staff
from adapters.staff.oidc_routes import FLOW_COOKIE
from bot.http import plumbed_app
from bot.service import Guidebot
from bot.settings import Settings
from bot.wiring import build_guidebot
from guidebot_testing.oidc import FakeUser, LocalProvider, Misbehaviour
from guidebot_testing.servers import free_port

CLIENT_ID, CLIENT_SECRET = "guidebot-staff", "client-secret-for-tests"
SSO_BUTTON = "Sign in with single sign-on"


@dataclass
class Site:
    base: str
    guidebot: Guidebot
    idp: LocalProvider
    server: TestServer

    def browser(self) -> aiohttp.ClientSession:
        """A fresh browser: it keeps cookies (for 127.0.0.1 too) and follows redirects."""
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def sign_in(self, browser: aiohttp.ClientSession) -> tuple[aiohttp.ClientResponse, str]:
        """Press the sign-in page's single sign-on button and follow every redirect: the last response and its page."""
        page = await (await browser.get(self.base + "/staff/sign-in")).text()
        assert SSO_BUTTON in page and 'action="/staff/sign-in/oidc"' in page
        response = await browser.post(self.base + "/staff/sign-in/oidc")
        return response, await response.text()

    def audit(self) -> list[dict[str, Any]]:
        return self.guidebot.store.audit_log()

    def refusals(self) -> list[dict[str, Any]]:
        return [row for row in self.audit() if row["action"] == "sign-in refused (oidc)"]


@pytest.fixture
async def idp() -> AsyncIterator[LocalProvider]:
    async with LocalProvider(CLIENT_ID, CLIENT_SECRET, []) as provider:
        yield provider


async def start(tmp_path: Path, idp: LocalProvider | None, **update: Any) -> Site:
    port = free_port()
    oidc: dict[str, Any] = {}
    if idp is not None:
        oidc = {"oidc_issuer": idp.issuer, "oidc_client_id": CLIENT_ID, "oidc_client_secret": CLIENT_SECRET}
        idp.redirect_uris.append(f"http://127.0.0.1:{port}/staff/sign-in/oidc/callback")
    base = {"data_dir": tmp_path / "data", "database_url": f"sqlite:///{tmp_path}/state.sqlite3", "port": port, "staff_sign_in_per_minute": 60}
    settings = Settings(**{**base, **oidc, **update})
    guidebot = build_guidebot(settings)
    app = plumbed_app(settings)
    mount_staff(app, guidebot, settings)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    return Site(f"http://127.0.0.1:{port}", guidebot, idp or LocalProvider(CLIENT_ID, CLIENT_SECRET, []), server)


@pytest.fixture
async def site(tmp_path: Path, idp: LocalProvider) -> AsyncIterator[Site]:
    started = await start(tmp_path, idp, oidc_allowed_domains="example.org, @partner.example", oidc_allowed_emails="dana@freelance.example")
    yield started
    await started.server.close()
    started.guidebot.close()


async def test_an_allowed_staff_member_signs_in_and_reaches_the_overview_and_its_json(site: Site) -> None:
    async with site.browser() as browser:
        await browser.get(site.base + "/staff/sign-in")
        to_provider = await browser.post(site.base + "/staff/sign-in/oidc", allow_redirects=False)
        assert to_provider.status == 303
        location = urlsplit(to_provider.headers["Location"])
        params = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert f"{location.scheme}://{location.netloc}{location.path}" == site.idp.issuer + "/authorize"
        assert params["client_id"] == CLIENT_ID and params["response_type"] == "code" and "openid" in params["scope"].split()
        assert params["redirect_uri"] == site.base + "/staff/sign-in/oidc/callback"
        assert params["code_challenge_method"] == "S256" and len(params["state"]) >= 32 and len(params["nonce"]) >= 32
        flow = to_provider.cookies[FLOW_COOKIE]
        assert flow["httponly"] and flow["samesite"] == "Lax" and flow["path"] == "/staff/sign-in/oidc" and int(flow["max-age"]) <= 600
        assert params["state"] in flow.value and params["code_challenge"] not in flow.value, "the verifier waits, not the challenge"

        overview = await browser.get(to_provider.headers["Location"])
        page = await overview.text()
        assert overview.status == 200 and overview.url.path == "/staff"
        assert "Signed in as ann@example.org" in page and "<h1>Overview</h1>" in page
        came_back = overview.history[-1]
        assert came_back.url.path == "/staff/sign-in/oidc/callback" and came_back.status == 303
        session = came_back.cookies[STAFF_COOKIE]
        assert session["httponly"] and session["samesite"] == "Lax" and session["path"] == "/staff", "the invite link's cookie"
        assert not any(cookie.key == FLOW_COOKIE for cookie in browser.cookie_jar), "the flow's cookie is spent"

        numbers = await browser.get(site.base + "/staff/api/overview?days=7")
        assert numbers.status == 200 and (await numbers.json())["days"] == 7

    actions = [(row["who"], row["action"]) for row in site.audit()]
    assert actions[:2] == [("ann@example.org", "sign-in (oidc)"), ("ann@example.org", "added (oidc)")]
    assert [m["email"] for m in site.guidebot.staff.members()] == ["ann@example.org"]

    for user in (FakeUser("ann@example.org", email_verified=None), FakeUser("joe@partner.example"), FakeUser("Dana@Freelance.example")):
        site.idp.user = user
        async with site.browser() as browser:
            response, page = await site.sign_in(browser)
            assert response.url.path == "/staff" and f"Signed in as {user.email.lower()}" in page
    assert site.idp.hits["/.well-known/openid-configuration"] == 1 and site.idp.hits["/jwks"] == 1, "discovery and keys are cached"
    assert site.idp.hits["/token"] == 4


@pytest.mark.parametrize(
    ("user", "misbehave", "message", "reason"),
    [
        (FakeUser("eve@elsewhere.org"), Misbehaviour(), "eve@elsewhere.org may not sign in to the staff dashboard", "not allowed"),
        (FakeUser("eve@sub.example.org"), Misbehaviour(), "eve@sub.example.org may not sign in", "not allowed"),
        (FakeUser(), Misbehaviour(audience="another-application"), "the ID token was issued for another application", "bad ID token"),
        (FakeUser(), Misbehaviour(expires_in=-600), "the ID token has expired", "bad ID token: the ID token has expired"),
        (FakeUser(), Misbehaviour(nonce="n" * 32), "the ID token does not belong to this sign-in", "nonce"),
        (FakeUser(), Misbehaviour(issuer="https://idp.attacker.example"), "the ID token comes from another issuer", "issuer"),
        (FakeUser(), Misbehaviour(unpublished_key=True), "signature does not match the provider", "signature"),
        (FakeUser(email_verified=False), Misbehaviour(), "ann@example.org is not verified at the sign-in service", "e-mail not verified"),
        (FakeUser(), Misbehaviour(authorize_error="access_denied"), "The sign-in service did not sign you in", "provider error: access_denied"),
    ],
    ids=["other-domain", "subdomain", "other-audience", "expired", "bad-nonce", "other-issuer", "unpublished-key", "unverified-email", "provider-error"],
)
async def test_a_refused_sign_in_says_why_opens_no_session_and_is_audited(
    site: Site, user: FakeUser, misbehave: Misbehaviour, message: str, reason: str
) -> None:
    site.idp.user, site.idp.misbehave = user, misbehave
    async with site.browser() as browser:
        response, page = await site.sign_in(browser)
        assert response.status == 403 and response.url.path == "/staff/sign-in/oidc/callback"
        assert message in page and 'role="alert"' in page and SSO_BUTTON in page, "a clear page, and a way to try again"
        assert not any(cookie.key in (STAFF_COOKIE, FLOW_COOKIE) for cookie in browser.cookie_jar)
        dashboard = await browser.get(site.base + "/staff", allow_redirects=False)
        assert dashboard.status == 303 and dashboard.headers["Location"] == "/staff/sign-in"
    refusals = site.refusals()
    assert len(refusals) == 1 and reason in refusals[0]["detail"]
    assert site.guidebot.staff.members() == [], "nobody was added"


async def test_a_forged_or_replayed_callback_is_refused_and_its_code_never_redeemed(site: Site) -> None:
    async with site.browser() as browser:
        to_provider = await browser.post(site.base + "/staff/sign-in/oidc", allow_redirects=False)
        back = await browser.get(to_provider.headers["Location"], allow_redirects=False)
        callback = urlsplit(back.headers["Location"])
        genuine = {k: v[0] for k, v in parse_qs(callback.query).items()}
        forged = f"{site.base}{callback.path}?{urlencode({**genuine, 'state': 'forged-state-' + 'x' * 30})}"
        response = await browser.get(forged)
        page = await response.text()
        assert response.status == 403 and "did not start from this browser" in page
    async with site.browser() as other_browser:
        response = await other_browser.get(back.headers["Location"])
        assert response.status == 403 and "did not start from this browser" in await response.text()
    assert site.idp.hits["/token"] == 0, "a code that came back with the wrong state, or to another browser, is never redeemed"
    assert [row["detail"] for row in site.refusals()] == ["bad state", "bad state"]

    async with site.browser() as browser:
        signed_in, _page = await site.sign_in(browser)
        assert signed_in.url.path == "/staff"
        replayed = await browser.get(str(signed_in.history[-1].url))
        assert replayed.status == 403, "the flow's cookie was spent with the first use"


async def test_without_lists_only_invited_staff_sign_in_and_revoked_staff_stay_out(tmp_path: Path, idp: LocalProvider) -> None:
    site = await start(tmp_path, idp)
    try:
        site.guidebot.staff.invite("bob@other.org")
        idp.user = FakeUser("bob@other.org")
        async with site.browser() as browser:
            response, page = await site.sign_in(browser)
            assert response.url.path == "/staff" and "Signed in as bob@other.org" in page
        assert "added (oidc)" not in [row["action"] for row in site.audit()]

        idp.user = FakeUser("carol@other.org")
        async with site.browser() as browser:
            response, page = await site.sign_in(browser)
            assert response.status == 403 and "carol@other.org may not sign in" in page

        site.guidebot.staff.revoke("bob@other.org")
        idp.user = FakeUser("bob@other.org")
        async with site.browser() as browser:
            response, page = await site.sign_in(browser)
            assert response.status == 403 and "bob@other.org no longer has access" in page
        assert [(row["who"], row["detail"]) for row in site.refusals()] == [("bob@other.org", "revoked"), ("carol@other.org", "not allowed")]
    finally:
        await site.server.close()
        site.guidebot.close()


async def test_without_single_sign_on_settings_there_is_no_button_and_no_route(tmp_path: Path) -> None:
    site = await start(tmp_path, None)
    try:
        async with site.browser() as browser:
            page = await (await browser.get(site.base + "/staff/sign-in")).text()
            assert "<h1>Sign in</h1>" in page and "single sign-on" not in page
            for method, path in (("POST", "/staff/sign-in/oidc"), ("GET", "/staff/sign-in/oidc"), ("GET", "/staff/sign-in/oidc/callback?code=c&state=s")):
                response = await browser.request(method, site.base + path, allow_redirects=False)
                assert response.status == 404, (method, path)
    finally:
        await site.server.close()
        site.guidebot.close()


async def test_a_provider_that_cannot_be_reached_gets_a_clear_page_not_an_error(tmp_path: Path) -> None:
    nowhere = LocalProvider(CLIENT_ID, CLIENT_SECRET, [])
    nowhere.issuer = f"http://127.0.0.1:{free_port()}"
    site = await start(tmp_path, nowhere, oidc_allowed_domains="example.org")
    try:
        async with site.browser() as browser:
            response, page = await site.sign_in(browser)
            assert response.status == 502 and response.url.path == "/staff/sign-in/oidc"
            assert "The sign-in service could not be reached" in page and 'role="alert"' in page
        assert len(site.refusals()) == 1 and "provider unusable" in site.refusals()[0]["detail"]
    finally:
        await site.server.close()
        site.guidebot.close()


async def test_a_code_the_token_endpoint_turns_down_is_a_refusal(tmp_path: Path, idp: LocalProvider) -> None:
    site = await start(tmp_path, idp, oidc_client_secret="not-the-registered-secret", oidc_allowed_domains="example.org")
    try:
        async with site.browser() as browser:
            response, page = await site.sign_in(browser)
            assert response.status == 403 and "The sign-in service would not complete this sign-in" in page
        assert idp.hits["/token"] == 1
        assert [row["detail"] for row in site.refusals()] == ["token endpoint refused the code: invalid_client"]
    finally:
        await site.server.close()
        site.guidebot.close()


async def test_the_callback_is_rate_limited_like_the_invite_sign_in(tmp_path: Path, idp: LocalProvider) -> None:
    site = await start(tmp_path, idp, staff_sign_in_per_minute=2)
    try:
        async with site.browser() as browser:
            statuses = [(await browser.get(f"{site.base}/staff/sign-in/oidc/callback?code=c&state=s{i}")).status for i in range(3)]
        assert statuses == [403, 403, 429]
        assert [row["detail"] for row in site.refusals()] == ["bad state", "bad state"]
    finally:
        await site.server.close()
        site.guidebot.close()
