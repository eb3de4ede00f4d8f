"""The staff dashboard in a real browser: Debian's chromium, headless, driven by playwright.

One browser for the module. One server (the console, Slack and the dashboard mounted on one core with
the real guide's index, on a real 127.0.0.1 port, single sign-on pointed at the local OpenID Connect
provider) for the sign-in, Overview, Hand-offs and single sign-on tests: members' questions arrive through
the console's `/api/ask` and through Slack (the local fake), with 👍 / 👎 and hand-offs to a Slack staff
channel, so the overview has two platforms and every chart has something to draw. A staff member signs
in from a link `guidebot staff invite` printed, reads the overview, switches the period with the mouse
and the keyboard, and signs out, in light and in dark mode; follows an unanswered question from the
Unanswered page to its section's editor; replies to a console member's hand-off from the Hand-offs
page, which the member's page then shows; signs in through the provider. The Guide page
test has a server of its own (`create_app`, over the Guide tests' small guide, so a preview takes
seconds): a section edit is previewed, published, seen by a member, and rolled back.

Each step is a screenshot under `test-artifacts/screenshots/<test name>/` (or `$GUIDEBOT_TEST_ARTIFACTS`).
Any console error fails a test: that is how a browser reports a Content-Security-Policy violation.
The Overview test counts on the seeded numbers, so it runs before the tests that add questions.
Without chromium the tests skip, saying why.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from typer.testing import CliRunner

from adapters.console import SESSION_COOKIE
from adapters.console import mount as mount_console
from adapters.slack import mount as mount_slack
from adapters.slack.app import SLACK_ADAPTER
from adapters.staff import mount as mount_staff
from bot import cli
from bot.http import plumbed_app
from bot.server import create_app
from bot.service import Guidebot
from bot.settings import PROJECT_ROOT, Settings
from bot.wiring import build_guidebot
from guidebot_testing.browser import PageWatch, Screenshots, ServedApp, any_of, chromium_or_skip, launch_chromium
from guidebot_testing.oidc import FakeUser, LocalProvider
from guidebot_testing.servers import free_port, seed_index
from guidebot_testing.slack import FakeSlack, SlackConfig, event_callback, message, sign, slack_settings
from tests import test_staff_guide
from tests.test_staff_guide import DOCUMENT, NEW_SENTENCE, REFUSED_TODAY

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

STAFF = "C0STAFF01"
CLIENT_ID, CLIENT_SECRET = "guidebot-staff", "client-secret-for-tests"
MEMBER = "console-session-member-0001"
CONSOLE_ANSWERED = ("What does a VPMA do?", "What is a chief medical officer?", "How should I prepare for a CMO interview?")
CONSOLE_REFUSED = ("What will the weather be like in Boston tomorrow?", "What is a good recipe for banana bread?")
SLACK_ANSWERED = ("What does a VPMA do?",)
SLACK_REFUSED = ("Who won the world series last year?",)
CHARTS = (
    "Questions per day by platform",
    "Share of questions answered, per day",
    "Helpful and not helpful votes by guide section",
    "Hand-offs opened per day, and how many of them are answered",
)


@dataclass
class Seeded:
    """What members did before any staff member looked: the numbers the overview must show."""

    asked: dict[str, int]
    answered: int
    votes: dict[str, tuple[int, int]]
    handoffs_opened: int
    handoffs_answered: int

    @property
    def total(self) -> int:
        return sum(self.asked.values())


@dataclass
class Site:
    served: ServedApp
    config: SlackConfig
    guidebot: Guidebot
    fake: FakeSlack
    idp: LocalProvider
    seeded: Seeded | None = None

    @property
    def url(self) -> str:
        return self.served.url

    def invite(self, email: str) -> str:
        """A sign-in link, made the way staff make one: `guidebot staff invite`, against this server's database."""
        env = {
            "GUIDEBOT_DATA_DIR": str(self.config.settings.data_dir),
            "GUIDEBOT_DATABASE_URL": str(self.config.settings.database_url),
            "GUIDEBOT_PUBLIC_URL": self.url,
        }
        cli.get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli.app, ["staff", "invite", email], env=env)
        finally:
            cli.get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        link = re.search(re.escape(self.url) + r"/staff/sign-in\?token=\S+", result.output)
        assert link is not None, result.output
        return link.group(0)


# ---------------------------------------------------------------------------------------------
# Seeding, as members would: the console's JSON API and Slack events


async def _post(session: aiohttp.ClientSession, url: str, body: Any) -> dict[str, Any]:
    async with session.post(url, json=body, headers={"Cookie": f"{SESSION_COOKIE}={MEMBER}"}) as response:
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        return data


async def _slack_event(session: aiohttp.ClientSession, url: str, event: dict[str, Any]) -> None:
    body = json.dumps(event_callback(event))
    headers = {"Content-Type": "application/json", **sign(body)}
    async with session.post(url + "/slack/events", data=body, headers=headers) as response:
        assert response.status == 200, await response.text()


async def seed(site: Site, app: web.Application) -> Seeded:
    url, store = site.url, site.guidebot.store
    async with aiohttp.ClientSession() as session:
        answers = [await _post(session, url + "/api/ask", {"question": q}) for q in CONSOLE_ANSWERED]
        refusals = [await _post(session, url + "/api/ask", {"question": q}) for q in CONSOLE_REFUSED]
        assert all(a["answered"] for a in answers) and not any(r["answered"] for r in refusals)
        votes: dict[str, list[int]] = {}
        for answer, value in zip((*answers, refusals[0]), ("up", "up", "down", "down"), strict=True):
            await _post(session, url + "/api/feedback", {"answer_id": answer["answer_id"], "value": value})
            record = store.answer(answer["answer_id"])
            assert record is not None
            section = record.sections[0] if record.sections else "(no section)"
            votes.setdefault(section, [0, 0])[0 if value == "up" else 1] += 1

        for refusal in refusals:
            await _post(session, url + "/api/handoff", {"answer_id": refusal["answer_id"], "name": "Dr. Okafor"})
        await site.guidebot.handoffs.idle()
        await site.fake.wait_for(
            lambda: len([c for c in site.fake.sent("chat.postMessage") if c.body.get("channel") == STAFF and not c.body.get("thread_ts")]) == 2,
            what="two staff posts",
        )
        [first] = [h for h in store.handoffs() if h.answer_id == refusals[0]["answer_id"]]
        assert first.staff_post is not None
        reply = message("Write to office@example.org, they know.", user="U0STAFF01", channel=STAFF, channel_type="channel",
                        thread_ts=str(first.staff_post.ref["ts"]))
        await _slack_event(session, url, reply)

        for question in (*SLACK_ANSWERED, SLACK_REFUSED[0]):
            await _slack_event(session, url, message(question, user="U0MEMBER9"))
        assert await app[SLACK_ADAPTER].background.idle(30), "the Slack adapter is still busy"
        await site.guidebot.handoffs.idle()
        await site.fake.wait_for(lambda: [h for h in store.handoffs() if h.state == "answered"], what="the hand-off answered")
    return Seeded(
        asked={"console": len(answers) + len(refusals), "slack": len(SLACK_ANSWERED) + len(SLACK_REFUSED)},
        answered=len(answers) + len(SLACK_ANSWERED),
        votes={section: (up, down) for section, (up, down) in votes.items()},
        handoffs_opened=len(refusals),
        handoffs_answered=1,
    )


# ---------------------------------------------------------------------------------------------
# Fixtures: one server, one browser


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser, asked for first by every fixture here (and session-scoped, as pytest sets up wider scopes first),
    so a machine without one skips before the guide's index is built."""
    return chromium_or_skip()


@pytest.fixture(scope="module")
def site(chromium: str, guide_settings: Settings, guide_index: Any, embedder: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    served = ServedApp()
    fake = served.run(FakeSlack(names={"U0STAFF01": "Ann Lee"}).start())
    port = free_port()
    idp = served.run(LocalProvider(CLIENT_ID, CLIENT_SECRET, [f"http://127.0.0.1:{port}/staff/sign-in/oidc/callback"]).__aenter__())
    tmp = tmp_path_factory.mktemp("staff-browser")
    knowledge = tmp / "knowledge"  # a copy: "Add to the guide" and the Guide page write documents
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    config = slack_settings(
        guide_settings,
        tmp,
        fake,
        knowledge_dir=knowledge,
        staff_channel=f"slack:{STAFF}",
        public_url=f"http://127.0.0.1:{port}",
        rate_limit_per_address=0,
        rate_limit_per_session=0,
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),  # model_copy does not validate
        oidc_allowed_domains="sso.example.org",
    )
    guidebot = build_guidebot(config.settings, embedder)
    apps: list[web.Application] = []

    def make_app() -> web.Application:
        app = plumbed_app(config.settings)
        mount_console(app, guidebot, config.settings)
        mount_slack(app, guidebot, config.settings, config.slack)
        mount_staff(app, guidebot, config.settings)
        apps.append(app)
        return app

    started = Site(served, config, guidebot, fake, idp)
    try:
        served.serve(make_app, port)
        started.seeded = served.run(seed(started, apps[0]))
        yield started
    finally:
        served.run(fake.close())
        served.run(idp.__aexit__(None, None, None))
        served.close()
        guidebot.close()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch_chromium(playwright, chromium)
        try:
            yield launched
        finally:
            launched.close()


def new_page(browser: Browser, scheme: str = "light") -> tuple[Page, PageWatch]:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1100, "height": 900})  # type: ignore[arg-type]
    page = context.new_page()
    return page, PageWatch.on(page)


def sign_in(page: Page, site: Site, email: str) -> None:
    """As staff do: open the link `guidebot staff invite` printed and press its button."""
    page.goto(site.invite(email))
    page.get_by_role("button", name="Sign in to the staff dashboard").click()
    page.wait_for_url(site.url + "/staff")


def luminance(css_colour: str) -> float:
    r, g, b = (int(c) / 255 for c in re.findall(r"\d+", css_colour)[:3])
    channel = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in (r, g, b)]
    return 0.2126 * channel[0] + 0.7152 * channel[1] + 0.0722 * channel[2]


def table(page: Page, caption: str) -> tuple[list[str], list[list[str]]]:
    """A chart's table, opened as a reader would (its summary), as (header, rows)."""
    details = page.locator("details.numbers", has=page.locator("caption", has_text=caption))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    head = details.locator("thead th").all_inner_texts()
    rows = [row.locator("th, td").all_inner_texts() for row in details.locator("tbody tr").all()]
    return head, rows


def column_sums(head: list[str], rows: list[list[str]]) -> dict[str, int]:
    return {name: sum(int(row[i]) for row in rows) for i, name in enumerate(head) if i > 0 and all(row[i].isdigit() for row in rows)}


def focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.textContent.trim()"))


def focus_is_visible(page: Page) -> bool:
    return bool(page.evaluate("getComputedStyle(document.activeElement).outlineStyle !== 'none'"))


# ---------------------------------------------------------------------------------------------
# Tests


def test_a_browser_that_is_not_signed_in_is_sent_to_the_sign_in_page(site: Site, browser: Browser, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    shots = Screenshots.for_test(request.node.name)
    page, watch = new_page(browser)
    try:
        for path in ("/staff", "/staff?days=90", "/staff/unanswered", "/staff/handoffs", "/staff/guide?edit=cmo-career-path"):
            page.goto(site.url + path)
            assert page.url == site.url + "/staff/sign-in", path
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("main")).to_contain_text("guidebot staff invite")
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        shots.take(page, "sign-in-without-a-link")
        assert watch.problems() == []
    finally:
        page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_staff_sign_in_from_an_invite_read_the_overview_and_sign_out(site: Site, browser: Browser, scheme: str, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect

    seeded = site.seeded
    assert seeded is not None
    shots = Screenshots.for_test(request.node.name)
    link = site.invite(f"{scheme}@example.org")
    page, watch = new_page(browser, scheme)
    try:
        page.goto(link)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        background = luminance(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert background < 0.1 if scheme == "dark" else background > 0.8, f"{scheme} mode background {background:.2f}"
        shots.take(page, "1-invite-link")
        page.get_by_role("button", name="Sign in to the staff dashboard").click()
        page.wait_for_url(site.url + "/staff")
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        expect(page.locator("header")).to_contain_text(f"Signed in as {scheme}@example.org")
        expect(page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
        expect(page.get_by_role("link", name="30 days")).to_have_attribute("aria-current", "page")
        shots.take(page, "2-overview-30-days")

        totals = dict(zip(page.locator(".totals dt").all_inner_texts(), page.locator(".totals dd").all_inner_texts(), strict=True))
        rate = f"{seeded.answered / seeded.total:.0%}"
        assert totals == {
            "Questions": str(seeded.total),
            "Answered": f"{seeded.answered} ({rate})",
            "Hand-offs opened": str(seeded.handoffs_opened),
            "Hand-offs answered": str(seeded.handoffs_answered),
        }
        for title in CHARTS:
            chart = page.get_by_role("img", name=title)
            expect(chart).to_be_visible()
            assert chart.evaluate("svg => svg.getBBox().width") > 0 and chart.locator("rect, polyline, circle").count() > 0, title

        # Every question was asked today: one stacked bar per chart, as tall as the axis says, split as seeded.
        questions = page.get_by_role("img", name=CHARTS[0])
        assert str(seeded.total) in questions.locator("text").all_text_contents()
        heights = [float(h or 0) for h in (r.get_attribute("height") for r in questions.locator("rect").all())]
        assert sorted(h / sum(heights) for h in heights) == pytest.approx(sorted(n / seeded.total for n in seeded.asked.values()), rel=0.02)
        head, rows = table(page, "Questions per day by platform")
        assert head == ["Day", *sorted(seeded.asked), "Total"] and len(rows) == 30
        assert column_sums(head, rows) == {**seeded.asked, "Total": seeded.total}

        assert page.get_by_role("img", name=CHARTS[1]).locator("circle").count() == 1, "one day with questions, one point"
        head, rows = table(page, "Answer rate per day")
        assert column_sums(head, rows) == {"Asked": seeded.total, "Answered": seeded.answered}
        assert [row[3] for row in rows if row[1] != "0"] == [rate], "one day with questions: today's rate"

        votes = page.get_by_role("img", name=CHARTS[2])
        labels = votes.locator('text[text-anchor="end"]').evaluate_all(
            "ts => ts.map(t => [t.querySelector('title')?.textContent, [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('')])"
        )
        assert sorted(title for title, _shown in labels) == sorted(seeded.votes), "each bar's whole section on hover"
        shown = [text for _title, text in labels]
        last = [s.rsplit("›", 1)[-1].strip() for s in seeded.votes]
        assert sorted(shown) == sorted(s if len(s) <= 40 else s[:39] + "…" for s in last), "a bar is named by its own section"
        assert len(set(shown)) == len(shown), "every bar's label tells its section apart"
        counts = votes.locator("text:not([text-anchor])").all_text_contents()
        assert sorted(int(c) for c in counts) == sorted(n for pair in seeded.votes.values() for n in pair)
        head, rows = table(page, "Votes by guide section")
        assert {row[0]: (int(row[1]), int(row[2])) for row in rows} == seeded.votes

        handoffs = page.get_by_role("img", name=CHARTS[3])
        assert str(seeded.handoffs_opened) in handoffs.locator("text").all_text_contents()
        assert handoffs.locator("rect").count() == 2, "today's bar: answered, and still open"
        head, rows = table(page, "Hand-offs per day")
        assert column_sums(head, rows) == {"Opened": seeded.handoffs_opened, "Answered": seeded.handoffs_answered}
        shots.take(page, "3-overview-tables-open")

        page.get_by_role("link", name="7 days").click()
        page.wait_for_url(site.url + "/staff?days=7")
        expect(page.get_by_role("link", name="7 days")).to_have_attribute("aria-current", "page")
        head, rows = table(page, "Questions per day by platform")
        assert len(rows) == 7 and column_sums(head, rows)["Total"] == seeded.total
        shots.take(page, "4-overview-7-days")

        # The keyboard, from a fresh load: the first Tab shows the skip link, then the sign-out button and the navigation.
        page.reload()
        page.keyboard.press("Tab")
        assert focused(page) == "Skip to content" and focus_is_visible(page)
        expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
        shots.take(page, "5-skip-link-focused", full_page=False)
        for name in ("Sign out", "Overview", "Unanswered", "Hand-offs", "Guide"):
            page.keyboard.press("Tab")
            assert focused(page) == name and focus_is_visible(page), name
        page.keyboard.press("Shift+Tab")
        assert focused(page) == "Hand-offs"
        page.reload()
        page.keyboard.press("Tab")
        assert focused(page) == "Skip to content"
        page.keyboard.press("Enter")
        # The jump to the fragment lands a moment after the key press: wait for it rather than read the URL at once.
        expect(page).to_have_url(re.compile(r"#main$"))
        page.keyboard.press("Tab")
        assert focused(page) == "7 days", "after the skip link, the next stop is in the page's content"
        while focused(page) != "90 days":
            page.keyboard.press("Tab")
        shots.take(page, "6-period-by-keyboard", full_page=False)
        page.keyboard.press("Enter")
        page.wait_for_url(site.url + "/staff?days=90")
        head, rows = table(page, "Questions per day by platform")
        assert len(rows) == 90 and column_sums(head, rows)["Total"] == seeded.total

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(site.url + "/staff/sign-in")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        shots.take(page, "7-signed-out")
        page.goto(site.url + "/staff")
        assert page.url == site.url + "/staff/sign-in", "the session ended"
        page.goto(link)
        page.get_by_role("button", name="Sign in to the staff dashboard").click()
        expect(page.get_by_role("alert")).to_contain_text("has been used")
        shots.take(page, "8-link-used-twice")
        assert watch.problems(allow_status=lambda line: line.startswith("403 ") and line.endswith("/staff/sign-in")) == []
    finally:
        page.context.close()


def test_the_unanswered_page_lists_what_the_guide_refused_and_leads_to_the_section_s_editor(
    site: Site, browser: Browser, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect

    shots = Screenshots.for_test(request.node.name)
    refused = {*CONSOLE_REFUSED, *SLACK_REFUSED}
    page, watch = new_page(browser)
    try:
        sign_in(page, site, "una@example.org")
        page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Unanswered").click()
        page.wait_for_url(site.url + "/staff/unanswered")
        expect(page.get_by_role("heading", name="Unanswered questions", level=1)).to_be_visible()
        expect(page.locator("main")).to_contain_text(f"{len(refused)} unanswered questions")
        assert set(page.locator("ul.wordings li").all_inner_texts()) == refused
        shots.take(page, "1-unanswered")
        page.emulate_media(color_scheme="dark")
        shots.take(page, "1-unanswered-dark")
        page.emulate_media(color_scheme="light")

        group = page.locator("section", has=page.locator("ul.wordings li", has_text=CONSOLE_REFUSED[0]))
        section = group.locator("p", has_text="Nearest guide section:").get_by_role("link").inner_text()
        group.get_by_role("link", name="Write the answer into the guide").click()
        page.wait_for_url(re.compile(r"/staff/guide\?edit=[\w-]+#[\w-]+$"))
        editor = page.get_by_label(section.split(" › ")[-1], exact=True)
        expect(editor).to_be_in_viewport()
        shots.take(page, "2-the-section-s-editor", full_page=False)
        assert watch.problems() == []
    finally:
        page.context.close()


def test_a_reply_from_the_hand_offs_page_reaches_the_member_in_their_browser(site: Site, browser: Browser, request: pytest.FixtureRequest) -> None:
    """A console member hands a refusal off; a staff member replies from the Hand-offs page; the member's page shows it.

    The member's page polls every 20 s: its clock is playwright's, fast-forwarded instead of waited for.
    """
    from playwright.sync_api import expect

    shots = Screenshots.for_test(request.node.name)
    question, reply = "Who won the world series last year?", "Not ours to say, but the office lends out the season's schedule."
    member, member_watch = new_page(browser, "dark")
    staff, staff_watch = new_page(browser)
    try:
        member.clock.install()
        member.goto(site.url + "/")
        member.get_by_label("Your question").fill(question)
        member.get_by_label("Your question").press("Enter")
        turn = member.locator(".turn.bot").last
        expect(turn.locator(".notice")).to_contain_text("doesn't cover")
        turn.get_by_label("Your name").fill("Dr. Rivera")
        turn.get_by_role("button", name="Ask the program team").click()
        expect(turn.locator(".handoff-status")).to_have_text("Sent to the program team. Their reply will come here.")
        expect(turn.get_by_label("Your name")).to_be_hidden()
        expect(turn.get_by_role("button", name="Ask the program team")).to_be_hidden()
        shots.take(member, "1-member-handed-off")

        sign_in(staff, site, "hana@example.org")
        staff.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Hand-offs").click()
        staff.wait_for_url(site.url + "/staff/handoffs")
        expect(staff.get_by_role("link", name=re.compile(r"^Open \(\d+\)$"))).to_have_attribute("aria-current", "page")
        handoff = staff.locator("section", has=staff.get_by_role("heading", name=question, exact=True))
        expect(handoff).to_contain_text("Dr. Rivera, on the web console")
        expect(handoff).to_contain_text("No reply yet.")
        expect(handoff.get_by_role("button", name="Add to the guide")).to_have_count(0)
        handoff.get_by_label("Reply to Dr. Rivera").fill(reply)
        shots.take(staff, "2-staff-writes-the-reply")
        handoff.get_by_role("button", name="Send the reply").click()
        staff.wait_for_url(re.compile(r"/staff/handoffs\?state=answered&done=replied"))
        expect(staff.get_by_role("status")).to_contain_text("Your reply is on its way to the member")
        handoff = staff.locator("section", has=staff.get_by_role("heading", name=question, exact=True))
        expect(handoff.locator(".replies")).to_contain_text("hana@example.org")
        expect(handoff.locator(".replies")).to_contain_text(reply)
        shots.take(staff, "3-staff-reply-sent")
        staff.emulate_media(color_scheme="dark")
        shots.take(staff, "3-staff-reply-sent-dark")

        member.clock.fast_forward(21_000)  # the page's next poll
        team = member.locator(".turn.team").last
        expect(team).to_contain_text("From the program team: hana@example.org")
        expect(team).to_contain_text(reply)
        shots.take(member, "4-member-reads-the-reply")
        slack = site.fake
        site.served.run(slack.wait_for(
            lambda: [c for c in slack.sent("chat.update") if c.body.get("channel") == STAFF and "Answered by hana@example.org" in json.dumps(c.body)],
            what="the Slack staff post marked answered from the web",
        ))

        title = "Who won the world series?"
        handoff.get_by_label(re.compile("^Title in the guide")).fill(title)
        handoff.get_by_role("button", name="Add to the guide").click()
        staff.wait_for_url(re.compile(r"/staff/handoffs\?state=published&done=published"))
        expect(staff.get_by_role("status")).to_contain_text("Added to the guide")
        expect(staff.locator("section", has=staff.get_by_role("heading", name=question, exact=True))).to_contain_text(f"as “{title}”")
        document = site.config.settings.knowledge_dir / "documents" / "program-team-answers.md"
        assert f"## {title}" in document.read_text() and reply in document.read_text()
        shots.take(staff, "5-added-to-the-guide-dark")
        assert member_watch.problems() == [] and staff_watch.problems() == []
    finally:
        member.context.close()
        staff.context.close()


def test_single_sign_on_through_the_organisation_s_provider(site: Site, browser: Browser, request: pytest.FixtureRequest) -> None:
    """The sign-in page's single sign-on button goes to the (local) OpenID Connect provider and back, signed in;
    someone the provider vouches for but who is not allowed gets the sign-in page saying so."""
    from playwright.sync_api import expect

    shots = Screenshots.for_test(request.node.name)
    page, watch = new_page(browser, "dark")
    try:
        site.idp.user = FakeUser("ines@sso.example.org")
        page.goto(site.url + "/staff")
        assert page.url == site.url + "/staff/sign-in"
        shots.take(page, "1-sign-in-page")
        page.get_by_role("button", name="Sign in with single sign-on").click()
        page.wait_for_url(site.url + "/staff")
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        expect(page.locator("header")).to_contain_text("Signed in as ines@sso.example.org")
        shots.take(page, "2-signed-in-by-single-sign-on")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(site.url + "/staff/sign-in")

        site.idp.user = FakeUser("eve@elsewhere.example")
        page.get_by_role("button", name="Sign in with single sign-on").click()
        expect(page.get_by_role("alert")).to_contain_text("eve@elsewhere.example may not sign in to the staff dashboard")
        assert "/staff/sign-in/oidc/callback" in page.url
        shots.take(page, "3-refused")
        page.goto(site.url + "/staff")
        assert page.url == site.url + "/staff/sign-in", "not signed in"
        refused = any_of(r"^403 .*/staff/sign-in/oidc/callback\?")
        assert watch.problems(allow_status=refused) == []
    finally:
        page.context.close()


small_guide = test_staff_guide.small_guide
"""The Guide page tests' own guide: the documents with every 12th bank question, indexed once for this module."""


@dataclass
class GuideSite:
    served: ServedApp
    guidebot: Guidebot


@pytest.fixture(scope="module")
def guide_site(chromium: str, small_guide: Path, embedder: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuideSite]:
    """The whole server (`create_app`, its runtime's hot reload included) over `tests.test_staff_guide`'s small guide,
    whose thinned question banks make a preview take seconds."""
    tmp = tmp_path_factory.mktemp("guide-browser")
    shutil.copytree(small_guide / "knowledge", tmp / "knowledge")
    seed_index(small_guide / "data", tmp / "data")
    shutil.copytree(small_guide / "data" / "embeddings", tmp / "data" / "embeddings")
    served = ServedApp()
    port = free_port()
    settings = Settings(
        knowledge_dir=tmp / "knowledge",
        data_dir=tmp / "data",
        database_url=f"sqlite:///{tmp}/state.sqlite3",
        public_url=f"http://127.0.0.1:{port}",
        freeze_heap=False,
    )
    guidebot = build_guidebot(settings, embedder)
    try:
        served.serve(lambda: create_app(settings, guidebot, index_poll_seconds=0.2), port)
        yield GuideSite(served, guidebot)
    finally:
        guidebot.guide.wait(120)
        served.close()


def ask_in_console(page: Page, question: str) -> Any:
    """Ask on the console page as a member does; the bot's new turn."""
    from playwright.sync_api import expect

    turns = page.locator(".turn.bot")
    before = turns.count()
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    expect(turns).to_have_count(before + 1)
    turn = turns.nth(before)
    expect(turn.locator("p.lead, .notice").first).to_be_visible()
    return turn


def test_a_guide_change_is_previewed_then_published_and_members_get_the_new_answer(
    guide_site: GuideSite, browser: Browser, request: pytest.FixtureRequest
) -> None:
    """Staff edit a section on the Guide page, see which questions it would answer, publish, and roll back;
    a member's console shows the old answer until the publish, the new one after, and the old one again."""
    from playwright.sync_api import expect

    shots = Screenshots.for_test(request.node.name)
    url = guide_site.served.url
    member, member_watch = new_page(browser)
    staff, staff_watch = new_page(browser)
    try:
        member.goto(url + "/")
        expect(ask_in_console(member, REFUSED_TODAY).locator(".notice")).to_contain_text("doesn't cover")

        staff.goto(guide_site.guidebot.staff.invite("gus@example.org").link)
        staff.get_by_role("button", name="Sign in to the staff dashboard").click()
        staff.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Guide").click()
        staff.wait_for_url(url + "/staff/guide")
        expect(staff.get_by_role("heading", name="Guide", level=1)).to_be_visible()
        expect(staff.get_by_role("heading", name="How to Become a Chief Medical Officer: A Career Path")).to_be_visible()
        shots.take(staff, "1-guide-page")
        staff.get_by_role("link", name="Edit Developing Executive Competencies").click()
        staff.wait_for_url(f"{url}/staff/guide?edit={DOCUMENT}#developing-executive-competencies")
        editor = staff.get_by_label("Developing Executive Competencies", exact=True)
        expect(editor).to_be_in_viewport()
        editor.fill(editor.input_value() + "\n\n" + NEW_SENTENCE)
        shots.take(staff, "2-section-edited", full_page=False)
        staff.locator("form.editor", has=editor).get_by_role("button", name="Preview this change").click()

        preview = staff.get_by_role("region", name="Preview of a change")
        expect(preview).to_be_visible(timeout=90_000)  # the page refreshes itself while the preview runs
        logged = preview.get_by_role("row", name=re.compile("^logged questions"))
        assert logged.locator("td").all_inner_texts()[:2] == ["1", "1"], "the member's one question: newly answered"
        expect(preview.get_by_role("heading", name=re.compile(r"^Newly answered: \d+"))).to_be_visible()
        row = preview.locator("table", has=staff.locator("caption", has_text="Newly answered")).locator("tr", has_text=REFUSED_TODAY)
        expect(row.locator("td").nth(1)).to_contain_text("refused")
        expect(row.locator("td").nth(2)).to_contain_text(NEW_SENTENCE)
        shots.take(staff, "3-preview")
        staff.emulate_media(color_scheme="dark")
        shots.take(staff, "3-preview-dark")
        staff.emulate_media(color_scheme="light")
        expect(ask_in_console(member, REFUSED_TODAY).locator(".notice")).to_contain_text("doesn't cover")

        preview.get_by_role("button", name="Publish this change").click()
        expect(staff.get_by_role("status").filter(has_text="Published:")).to_contain_text("Members get the new answers now", timeout=90_000)
        shots.take(staff, "4-published")
        expect(ask_in_console(member, REFUSED_TODAY).locator("p.lead")).to_contain_text(NEW_SENTENCE)
        shots.take(member, "5-member-gets-the-new-answer", full_page=False)

        staff.get_by_role("button", name=re.compile("^Roll back to this version")).click()
        expect(staff.get_by_role("status").filter(has_text="Rolled back:")).to_be_visible(timeout=90_000)
        shots.take(staff, "6-rolled-back")
        expect(ask_in_console(member, REFUSED_TODAY).locator(".notice")).to_contain_text("doesn't cover")
        assert member_watch.problems() == [] and staff_watch.problems() == []
    finally:
        member.context.close()
        staff.context.close()
