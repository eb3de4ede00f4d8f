"""The staff dashboard over HTTP: an invite link signs a staff member in once, and the overview shows what
members asked through the console; everything else under `/staff` is refused without a session,
and every change without this site's CSRF token.

The server is the console and the dashboard mounted on one core with the real guide's index, in
process; members' questions and votes arrive through `/api/ask` and `/api/feedback`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from adapters.console import SESSION_COOKIE
from adapters.console import mount as mount_console
from adapters.staff import STAFF_COOKIE
from adapters.staff import mount as mount_staff
from bot.http import plumbed_app
from bot.service import Guidebot
from bot.settings import Settings
from bot.wiring import build_guidebot

ANSWERED = ("What does a VPMA do?", "What is a chief medical officer?")
REFUSED = "What will the weather be like in Boston tomorrow?"
MEMBER = "console-session-member-0001"


@dataclass
class Dashboard:
    client: TestClient
    guidebot: Guidebot

    async def ask(self, question: str) -> dict[str, Any]:
        response = await self.client.post("/api/ask", json={"question": question}, headers={"Cookie": f"{SESSION_COOKIE}={MEMBER}"})
        assert response.status == 200
        return await response.json()

    async def vote(self, answer_id: str, value: str) -> None:
        response = await self.client.post(
            "/api/feedback", json={"answer_id": answer_id, "value": value}, headers={"Cookie": f"{SESSION_COOKIE}={MEMBER}"}
        )
        assert response.status == 200, await response.text()

    async def get(self, path: str, session: str | None = None, **headers: str) -> Any:
        if session:
            headers["Cookie"] = f"{STAFF_COOKIE}={session}"
        return await self.client.get(path, headers=headers, allow_redirects=False)

    async def post(self, path: str, data: dict[str, str], session: str | None = None, **headers: str) -> Any:
        if session:
            headers["Cookie"] = f"{STAFF_COOKIE}={session}"
        return await self.client.post(path, data=data, headers=headers, allow_redirects=False)

    async def sign_in(self, email: str = "ann@example.org") -> tuple[str, str]:
        """Through the link's page and its button: (the session cookie, the page's CSRF token)."""
        link = self.guidebot.staff.invite(email).link
        path = link.split("://", 1)[1].split("/", 1)[1]
        page = await (await self.get("/" + path)).text()
        token = re.search(r'name="token" value="([^"]+)"', page)
        assert token is not None
        response = await self.post("/staff/sign-in", {"token": token.group(1)})
        assert response.status == 303 and response.headers["Location"] == "/staff"
        session = response.cookies[STAFF_COOKIE].value
        overview = await (await self.get("/staff", session)).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', overview)
        assert csrf is not None
        return session, csrf.group(1)


async def start(settings: Settings, embedder: Any) -> Dashboard:
    guidebot = build_guidebot(settings, embedder)
    app = plumbed_app(settings)
    mount_console(app, guidebot, settings)
    mount_staff(app, guidebot, settings)
    client = TestClient(TestServer(app, host="127.0.0.1"), cookie_jar=DummyCookieJar())
    await client.start_server()
    return Dashboard(client, guidebot)


def dashboard_settings(guide_settings: Settings, tmp_path: Path, **update: Any) -> Settings:
    settings = guide_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/state.sqlite3", **update})
    settings.__dict__.pop("resolved_database_url", None)  # a cached_property copied from the session's settings
    return settings


@pytest.fixture
async def dashboard(guide_settings: Settings, guide_index: Any, embedder: Any, tmp_path: Path) -> AsyncIterator[Dashboard]:
    started = await start(dashboard_settings(guide_settings, tmp_path, staff_sign_in_per_minute=5), embedder)
    yield started
    await started.client.close()
    started.guidebot.close()


async def test_an_invite_link_signs_in_and_the_overview_shows_what_members_asked(dashboard: Dashboard) -> None:
    answers = [await dashboard.ask(question) for question in ANSWERED]
    refusal = await dashboard.ask(REFUSED)
    assert all(a["answered"] for a in answers) and refusal["answered"] is False
    await dashboard.vote(answers[0]["answer_id"], "up")
    await dashboard.vote(refusal["answer_id"], "down")
    link = dashboard.guidebot.staff.invite("ann@example.org").link
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/staff/sign-in\?token=[A-Za-z0-9_-]{40,}", link)

    session, csrf = await dashboard.sign_in()
    response = await dashboard.get("/staff?days=7", session)
    page = await response.text()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in page and "style=" not in page and "<style" not in page, "nothing the strict CSP would block"
    assert page.count("<svg") == 4 and page.count("<table") == 4, "each chart with its table"
    assert "<dt>Questions</dt><dd>3</dd>" in page and "<dt>Answered</dt><dd>2 (67%)</dd>" in page
    assert "Signed in as ann@example.org" in page and f'value="{csrf}"' in page
    record = dashboard.guidebot.store.answer(answers[0]["answer_id"])
    assert record is not None and record.sections
    section = record.sections[0]
    assert section.replace("›", "&gt;") in page or section in page

    data = await (await dashboard.get("/staff/api/overview?days=30", session)).json()
    assert data["days"] == 30 and len(data["questions_per_day"]) == 30
    assert data["totals"] == {"asked": 3, "answered": 2, "handoffs_opened": 0, "handoffs_answered": 0}
    assert data["questions_per_day"][-1]["by_platform"] == {"console": 3}
    votes = {row["section"]: (row["up"], row["down"]) for row in data["votes_by_section"]}
    assert votes["(no section)"] == (0, 1) and votes[section][0] == 1

    actions = [row["action"] for row in dashboard.guidebot.store.audit_log()]
    assert actions[:2] == ["sign-in", "invite"]
    assert all(question not in str(row) for row in dashboard.guidebot.store.audit_log() for question in (*ANSWERED, REFUSED))


async def test_the_session_cookie_is_http_only_same_site_and_scoped_to_staff(dashboard: Dashboard) -> None:
    link = dashboard.guidebot.staff.invite("ann@example.org").link
    response = await dashboard.post("/staff/sign-in", {"token": link.split("token=")[1]})
    cookie = response.cookies[STAFF_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/staff" and not cookie["secure"]


async def test_the_cookie_is_secure_under_an_https_public_url(guide_settings: Settings, guide_index: Any, embedder: Any, tmp_path: Path) -> None:
    started = await start(dashboard_settings(guide_settings, tmp_path, public_url="https://guide.example.org"), embedder)
    try:
        link = started.guidebot.staff.invite("ann@example.org").link
        assert link.startswith("https://guide.example.org/staff/sign-in?token=")
        response = await started.post("/staff/sign-in", {"token": link.split("token=")[1]})
        assert response.status == 303 and response.cookies[STAFF_COOKIE]["secure"]
    finally:
        await started.client.close()
        started.guidebot.close()


async def test_a_link_works_once(dashboard: Dashboard) -> None:
    token = dashboard.guidebot.staff.invite("ann@example.org").link.split("token=")[1]
    assert (await dashboard.post("/staff/sign-in", {"token": token})).status == 303
    again = await dashboard.post("/staff/sign-in", {"token": token})
    assert again.status == 403 and STAFF_COOKIE not in again.cookies
    assert "has been used, has expired or was revoked" in await again.text()


async def test_opening_the_link_does_not_spend_it(dashboard: Dashboard) -> None:
    """A mail scanner or a chat's link preview fetches the link: only the page's button signs in."""
    link = dashboard.guidebot.staff.invite("ann@example.org").link
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    for _ in range(3):
        assert (await dashboard.get(path)).status == 200
    assert (await dashboard.post("/staff/sign-in", {"token": link.split("token=")[1]})).status == 303


async def test_without_a_session_pages_go_to_sign_in_and_json_gets_401(dashboard: Dashboard) -> None:
    for path in ("/staff", "/staff/", "/staff?days=7", "/staff/unanswered", "/staff/anything/else"):
        response = await dashboard.get(path)
        assert response.status == 303 and response.headers["Location"] == "/staff/sign-in", path
    for path in ("/staff/api/overview", "/staff/api/overview?days=365", "/staff/api/other"):
        response = await dashboard.get(path)
        assert response.status == 401 and (await response.json())["error"] == "sign_in_required", path
    assert (await dashboard.get("/staff", "made-up-session-token-0123456789")).status == 303
    assert (await dashboard.post("/staff/sign-out", {"csrf": "x"})).status == 401
    sign_in = await dashboard.get("/staff/sign-in")
    assert sign_in.status == 200 and "guidebot staff invite" in await sign_in.text()


async def test_a_change_without_the_csrf_token_or_from_another_site_is_refused(dashboard: Dashboard) -> None:
    session, csrf = await dashboard.sign_in()
    assert (await dashboard.post("/staff/sign-out", {}, session)).status == 403
    assert (await dashboard.post("/staff/sign-out", {"csrf": "0" * 64}, session)).status == 403
    other = dashboard.guidebot.staff.invite("bo@example.org").link
    assert (await dashboard.post("/staff/sign-in", {"token": other.split("token=")[1]}, Origin="https://evil.example")).status == 403
    assert (await dashboard.post("/staff/sign-out", {"csrf": csrf}, session, Origin="https://evil.example")).status == 403
    assert (await dashboard.post("/staff/sign-out", {"csrf": csrf}, session, **{"Sec-Fetch-Site": "cross-site"})).status == 403
    assert (await dashboard.get("/staff", session)).status == 200, "still signed in after the refusals"
    refused = [row for row in dashboard.guidebot.store.audit_log() if row["action"].startswith("refused")]
    assert len(refused) == 4 and {row["who"] for row in refused} == {"ann@example.org"}

    port = dashboard.client.port
    out = await dashboard.post("/staff/sign-out", {"csrf": csrf}, session, Origin=f"http://127.0.0.1:{port}")
    assert out.status == 303 and out.headers["Location"] == "/staff/sign-in"
    assert (await dashboard.get("/staff", session)).status == 303, "signed out"
    assert dashboard.guidebot.store.audit_log()[0]["action"] == "sign-out"


async def test_the_csrf_token_may_come_as_a_header(dashboard: Dashboard) -> None:
    session, csrf = await dashboard.sign_in()
    assert (await dashboard.post("/staff/sign-out", {}, session, **{"X-CSRF-Token": csrf})).status == 303


async def test_revoking_a_member_ends_their_session(dashboard: Dashboard) -> None:
    session, _ = await dashboard.sign_in()
    assert (await dashboard.get("/staff/api/overview", session)).status == 200
    assert dashboard.guidebot.staff.revoke("ann@example.org")
    assert (await dashboard.get("/staff/api/overview", session)).status == 401
    assert (await dashboard.get("/staff", session)).status == 303


async def test_sign_in_attempts_are_rate_limited(dashboard: Dashboard) -> None:
    statuses = [(await dashboard.post("/staff/sign-in", {"token": f"guess-{n:030d}"})).status for n in range(6)]
    assert statuses[:5] == [403] * 5 and statuses[5] == 429
