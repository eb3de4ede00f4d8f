"""Every route the dashboard mounts under `/staff`, walked from the router itself (so a page added later is
covered without touching this file): without a session a page goes to the sign-in page and JSON gets 401,
and a signed-in change that comes from another site or without the session's CSRF token is refused (403)
and leaves an audit entry, not a change.

Only the sign-in routes are public, on purpose; they are named here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.staff import STAFF_COOKIE
from bot.settings import Settings
from tests.test_staff_dashboard import Dashboard, dashboard_settings, start

PUBLIC = re.compile(r"^/staff/sign-in(/oidc(/callback)?)?$")
"""The sign-in page, its form, and single sign-on's start and callback: reachable before signing in."""
CROSS_SITE = {"Origin": "https://evil.example"}


@pytest.fixture
async def dashboard(guide_settings: Settings, guide_index: Any, embedder: Any, tmp_path: Path) -> AsyncIterator[Dashboard]:
    settings = dashboard_settings(
        guide_settings,
        tmp_path,
        knowledge_dir=tmp_path / "knowledge",  # nothing a refused request might write reaches the repo
        oidc_issuer="http://127.0.0.1:9/unreachable",
        oidc_client_id="guidebot",
        oidc_client_secret=SecretStr("secret"),
    )
    started = await start(settings, embedder)
    yield started
    await started.client.close()
    started.guidebot.close()


def staff_routes(dashboard: Dashboard) -> list[tuple[str, str]]:
    """(method, a concrete path) for every guarded route: placeholders filled, `*` tried as GET and POST."""
    found: set[tuple[str, str]] = set()
    for route in dashboard.client.server.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("path") or info.get("formatter")
        if not template or not template.startswith("/staff") or PUBLIC.match(template) or route.method == "HEAD":
            continue
        path = re.sub(r"\{[^}]+\}", "some-id", template)
        for method in ("GET", "POST") if route.method == "*" else (route.method,):
            found.add((method, path))
    return sorted(found)


async def test_every_staff_route_without_a_session_goes_to_sign_in_or_gets_401(dashboard: Dashboard) -> None:
    routes = staff_routes(dashboard)
    paths = {path for _, path in routes}
    assert {"/staff", "/staff/unanswered", "/staff/handoffs", "/staff/guide", "/staff/guide/publish"} <= paths
    assert any(path.startswith("/staff/handoffs/some-id/") for path in paths)
    for method, path in routes:
        if method == "GET":
            response = await dashboard.get(path)
        else:
            response = await dashboard.post(path, {"csrf": "x" * 64, "text": "hello"})
        if path.startswith("/staff/api/"):
            assert response.status == 401, (method, path, response.status)
            assert (await response.json())["error"] == "sign_in_required"
        elif method == "GET":
            assert response.status == 303 and response.headers["Location"] == "/staff/sign-in", (method, path)
        else:
            assert response.status == 401 and "Sign in" in await response.text(), (method, path)


async def test_every_staff_change_from_another_site_or_without_the_token_is_refused(dashboard: Dashboard) -> None:
    session, csrf = await dashboard.sign_in()
    changes = [path for method, path in staff_routes(dashboard) if method == "POST"]
    assert "/staff/guide/rollback" in changes and "/staff/sign-out" in changes
    for path in changes:
        cross_site = await dashboard.post(path, {"csrf": csrf, "text": "hello"}, session, **CROSS_SITE)
        assert cross_site.status == 403, (path, cross_site.status)
        fetched_cross_site = await dashboard.post(path, {"csrf": csrf}, session, **{"Sec-Fetch-Site": "cross-site"})
        assert fetched_cross_site.status == 403, (path, fetched_cross_site.status)
        no_token = await dashboard.post(path, {"text": "hello"}, session)
        assert no_token.status == 403, (path, no_token.status)
        wrong_token = await dashboard.post(path, {"csrf": "0" * 64}, session)
        assert wrong_token.status == 403, (path, wrong_token.status)
    still = await dashboard.get("/staff", session)
    assert still.status == 200, "none of that signed the member out (sign-out itself was refused)"
    assert dashboard.guidebot.handoffs.queue("open", 10)[0] == []
    assert not (dashboard.guidebot.settings.knowledge_dir / "documents").exists()
    refused = [row for row in dashboard.guidebot.store.audit_log(limit=1000) if row["action"].startswith("refused")]
    assert len(refused) == 4 * len(changes)
    assert STAFF_COOKIE not in (await dashboard.get("/staff", session)).headers.get("Set-Cookie", "")
