"""The web console: served by its adapter, safe by construction, and working in a real browser.

The browser test drives Debian's chromium (`apt-get install -y chromium`) headless
through playwright (`guidebot_testing.browser`), against `guidebot serve` running as a
subprocess, and saves screenshots under `test-artifacts/screenshots/<test name>/`. Without a
chromium binary it is skipped with the reason; no browser is ever downloaded.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.console import SESSION_COOKIE, STATIC, mount
from bot.settings import Settings
from guidebot_testing.browser import Screenshots, chromium_or_skip, launch_chromium
from guidebot_testing.servers import serve


async def test_the_console_page_is_served_with_a_session_cookie_and_its_assets() -> None:
    app = web.Application()
    mount(app, guidebot=SimpleNamespace(messengers={}), settings=Settings())  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/")
        html = await resp.text()
        assert resp.status == 200 and resp.content_type == "text/html"
        assert SESSION_COOKIE in resp.cookies and resp.cookies[SESSION_COOKIE]["httponly"]
        for asset in re.findall(r'(?:src|href)="(/console/[^"]+)"', html):
            assert (await client.get(asset)).status == 200, asset
        again = await client.get("/")
        assert SESSION_COOKIE not in again.cookies, "an existing session is kept"


def test_the_page_is_accessible_by_construction() -> None:
    html = (STATIC / "index.html").read_text()
    assert '<html lang="en">' in html
    assert '<label for="question"' in html and 'id="question"' in html
    assert 'aria-live="polite"' in html and 'role="status"' in html
    assert re.search(r'<main id="main">', html) and "<header" in html and "<footer" in html
    assert 'aria-label="Helpful"' in html and 'aria-label="Not helpful"' in html
    assert "skip-link" in html


def test_the_console_never_inserts_html_from_strings() -> None:
    """Answer and document text reach the page through textContent / text nodes only."""
    script = (STATIC / "console.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink


def test_a_member_asks_gives_feedback_and_runs_a_command_in_a_real_browser(indexed_data_dir: Path, request: pytest.FixtureRequest) -> None:
    executable = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    shots = Screenshots.for_test(request.node.name)
    with serve(data_dir=indexed_data_dir) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            failed: list[str] = []
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(server.url + "/")
            expect(page.get_by_role("heading", name="Ask the guide")).to_be_visible()

            question = page.get_by_label("Your question")
            question.fill("What does a VPMA do?")
            question.press("Enter")
            answer = page.locator(".turn.bot").nth(0)
            lead = answer.locator(".reply-body > p.lead")
            expect(answer.locator(".reply-body > :first-child")).to_have_class("lead")  # the answer first
            expect(lead).to_contain_text("Vice President of Medical Affairs")
            expect(lead.locator(".ref").first).to_have_text("[1]")
            assert lead.locator("a.ref").first.get_attribute("href").startswith("/docs/cmo-career-path?chunk=")
            expect(answer.locator("blockquote").first).to_contain_text("Vice President of Medical Affairs")
            expect(answer.locator("mark.best").first).to_be_visible()
            source = answer.locator(".sources a").first
            expect(source).to_contain_text("Vice President of Medical Affairs")
            expect(answer.locator("figcaption").first).to_contain_text("[1] Vice President of Medical Affairs")
            assert source.get_attribute("href").startswith("/docs/cmo-career-path?chunk=")

            answer.get_by_role("button", name="Helpful", exact=True).click()
            expect(answer.locator(".feedback-status")).to_have_text("Thanks, feedback received.")
            expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")

            question.fill("role vpma")
            page.get_by_role("button", name="Ask", exact=True).click()
            summary = page.locator(".turn.bot").nth(1)
            expect(summary.locator(".summary-title")).to_contain_text("Vice President of Medical Affairs")
            expect(summary.locator(".points li").first).to_be_visible()

            question.fill("What is a good recipe for banana bread?")
            question.press("Enter")
            expect(page.locator(".turn.bot").nth(2).locator(".notice")).to_contain_text("doesn't cover")

            # A viewport as tall as the page, so the sticky ask box sits where it would after scrolling down.
            page.set_viewport_size({"width": 1100, "height": page.evaluate("document.documentElement.scrollHeight")})
            shots.take(page, "console", full_page=False)
            page.set_viewport_size({"width": 390, "height": 844})  # a phone
            page.locator(".turn.member").first.scroll_into_view_if_needed()
            shots.take(page, "console-mobile", full_page=False)
            page.set_viewport_size({"width": 1100, "height": 900})

            with page.expect_navigation():
                source.click()
            expect(page.locator("section.passage.highlighted mark").first).to_contain_text("Vice President of Medical Affairs")
            assert page.url.endswith("#vice-president-of-medical-affairs")
            shots.take(page, "document", full_page=False)
            assert failed == []
        finally:
            browser.close()
