"""The dashboard's Hand-offs page over HTTP: the queue, a reply from the web that reaches the member, and
"Add to the guide" that writes the program team's document.

One server holds the console, Slack (the local fake, the staff channel) and the dashboard on one core;
members hand questions off through the console's `/api/handoff` or Slack's button, as they do for real.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from adapters.console import mount as mount_console
from adapters.slack import mount as mount_slack
from adapters.slack.app import SLACK_ADAPTER
from adapters.staff import mount as mount_staff
from bot.handoff import Handoff, StaffReply
from bot.http import plumbed_app
from bot.store import SqlStore
from bot.wiring import build_guidebot
from guidebot_testing.slack import FakeSlack, SlackConfig, SlackEnv, slack_settings
from conftest_store import Clock, database_url, postgres_schema_url  # noqa: F401 - fixtures
from tests.test_handoff_console import ALICE, REFUSED, Console, staff_posts, wait_replies
from tests.test_handoff_slack import MEMBER, click_ask, in_channel, refused_in_thread
from tests.test_staff_dashboard import Dashboard

STAFF = "C0STAFF01"
REPLY = "The program cannot forecast the weather, but the office can help: write to office@example.org."


@dataclass
class Server:
    console: Console
    dashboard: Dashboard
    knowledge: Path

    @property
    def fake(self) -> FakeSlack:
        return self.console.fake

    async def handed_off(self, name: str = "Dr. Okafor") -> tuple[str, str]:
        """A console member's refusal handed to the team and posted in the staff channel: (answer id, hand-off id)."""
        answer_id = (await self.console.ask(REFUSED))["answer_id"]
        assert (await self.console.hand_off(answer_id, name=name))[0] == 200
        await self.fake.wait_for(lambda: staff_posts(self.fake), what="the staff post")
        handoff = self.dashboard.guidebot.store.handoff_for_answer(answer_id)
        assert handoff is not None
        return answer_id, handoff.id


async def start(config: SlackConfig, embedder: Any, fake: FakeSlack) -> tuple[SlackEnv, Dashboard]:
    guidebot = build_guidebot(config.settings, embedder)
    app = plumbed_app(config.settings)
    mount_slack(app, guidebot, config.settings, config.slack)
    mount_console(app, guidebot, config.settings)
    mount_staff(app, guidebot, config.settings)
    client = TestClient(TestServer(app, host="127.0.0.1"), cookie_jar=DummyCookieJar())
    await client.start_server()
    return SlackEnv(fake, client, guidebot, app[SLACK_ADAPTER]), Dashboard(client, guidebot)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(names={MEMBER: "Dr. Rivera", "U0STAFF01": "Ann Lee"}).start()
    yield server
    await server.close()


@pytest.fixture
async def server(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Server]:
    knowledge = tmp_path / "knowledge"
    (knowledge / "documents").mkdir(parents=True)
    config = slack_settings(guide_settings, tmp_path, fake, staff_channel=f"slack:{STAFF}", knowledge_dir=knowledge)
    env, dashboard = await start(config, embedder, fake)
    yield Server(Console(env, env.client), dashboard, knowledge)
    await env.client.close()
    env.guidebot.close()


def answered_posts(fake: FakeSlack, who: str) -> list[Any]:
    return [c for c in fake.sent("chat.update") if c.body.get("channel") == STAFF and f"Answered by {who}" in json.dumps(c.body)]


def form_key(page: str, handoff_id: str) -> str:
    form = page[page.index(f'action="/staff/handoffs/{handoff_id}/reply"') :]
    key = re.search(r'name="key" value="([^"]+)"', form)
    assert key is not None
    return key.group(1)


async def test_the_queue_shows_a_hand_off_and_a_web_reply_reaches_the_console_member(server: Server) -> None:
    answer_id, handoff_id = await server.handed_off()
    session, csrf = await server.dashboard.sign_in()

    response = await server.dashboard.get("/staff/handoffs", session)
    page = await response.text()
    assert response.status == 200 and "<script" not in page and "style=" not in page
    section = page[page.index(f'id="handoff-{handoff_id}"') :]
    for shown in (REFUSED, "Dr. Okafor", "the web console", "Said the guide doesn&#x27;t cover it.", "No reply yet."):
        assert shown in section, shown
    assert "Open (1)" in page and "Add to the guide</button>" not in section, "nothing to publish before a reply"
    data = await (await server.dashboard.get("/staff/api/handoffs?state=open", session)).json()
    [listed] = data["handoffs"]
    assert data["counts"] == {"open": 1, "answered": 0, "published": 0}
    assert (listed["id"], listed["question"], listed["member_name"], listed["platform"], listed["replies"]) == (
        handoff_id, REFUSED, "Dr. Okafor", "console", []
    )
    assert "reply_to" not in listed and ALICE not in json.dumps(data), "where the member is stays out of the queue"

    key = form_key(page, handoff_id)
    sent = await server.dashboard.post(f"/staff/handoffs/{handoff_id}/reply", {"csrf": csrf, "key": key, "text": REPLY}, session)
    assert sent.status == 303 and sent.headers["Location"].startswith("/staff/handoffs?state=answered&done=replied")
    [reply] = (await wait_replies(server.console, answer_id, 1))["replies"]
    assert (reply["who"], reply["text"], reply["number"]) == ("ann@example.org", REPLY, 1)
    await server.fake.wait_for(lambda: answered_posts(server.fake, "ann@example.org"), what="the staff post marked answered")

    again = await server.dashboard.post(f"/staff/handoffs/{handoff_id}/reply", {"csrf": csrf, "key": key, "text": REPLY}, session)
    assert again.status == 303
    await server.dashboard.guidebot.handoffs.idle()
    stored = server.dashboard.guidebot.store.handoff(handoff_id)
    assert stored is not None and stored.state == "answered" and len(stored.replies) == 1, "a resent form is one reply"

    answered = await (await server.dashboard.get("/staff/handoffs?state=answered&done=replied", session)).text()
    assert "Your reply is on its way to the member" in answered and REPLY.replace(".", "") in answered.replace(".", "")
    assert "Add to the guide</button>" in answered and "ann@example.org, <time" in answered
    audit = server.dashboard.guidebot.store.audit_log()
    assert {"who": "ann@example.org", "action": "hand-off reply", "detail": handoff_id} in [
        {k: row[k] for k in ("who", "action", "detail")} for row in audit
    ]
    assert all(REFUSED not in str(row) and REPLY not in str(row) for row in audit), "never the question or the reply"


async def test_add_to_the_guide_from_the_web_writes_the_document(server: Server) -> None:
    _, handoff_id = await server.handed_off()
    session, csrf = await server.dashboard.sign_in()
    early = await server.dashboard.post(f"/staff/handoffs/{handoff_id}/publish", {"csrf": csrf, "title": "Weather?"}, session)
    assert early.status == 303 and "problem=no_reply" in early.headers["Location"]
    assert not (server.knowledge / "documents" / "program-team-answers.md").exists()

    await server.dashboard.post(f"/staff/handoffs/{handoff_id}/reply", {"csrf": csrf, "text": REPLY}, session)
    await server.fake.wait_for(lambda: answered_posts(server.fake, "ann@example.org"), what="the relay")
    title = "Can the program tell me the weather for an event?"
    published = await server.dashboard.post(f"/staff/handoffs/{handoff_id}/publish", {"csrf": csrf, "title": title}, session)
    assert published.status == 303 and published.headers["Location"].startswith("/staff/handoffs?state=published&done=published")
    document = (server.knowledge / "documents" / "program-team-answers.md").read_text()
    assert f"## {title}" in document and REPLY in document
    stored = server.dashboard.guidebot.store.handoff(handoff_id)
    assert stored is not None and stored.state == "published" and stored.published_title == title
    await server.fake.wait_for(lambda: [c for c in server.fake.sent("chat.update") if "Added to the guide" in json.dumps(c.body)], what="the post")
    page = await (await server.dashboard.get("/staff/handoffs?state=published&done=published", session)).text()
    assert "Added to the guide’s" in page and f"as “{title}”" in page and "Update it in the guide" in page
    assert server.dashboard.guidebot.store.audit_log()[0]["action"] == "hand-off added to the guide"


async def test_a_web_reply_reaches_a_slack_member_in_their_thread(server: Server) -> None:
    env = server.console.env
    event, refusal = await refused_in_thread(env)
    await click_ask(env, event, refusal)
    await server.fake.wait_for(lambda: staff_posts(server.fake), what="the staff post")
    [handoff] = env.guidebot.store.handoffs()
    session, csrf = await server.dashboard.sign_in()
    assert (await server.dashboard.post(f"/staff/handoffs/{handoff.id}/reply", {"csrf": csrf, "text": REPLY}, session)).status == 303
    [relayed] = await server.fake.wait_for(lambda: in_channel(server.fake, "C0GENERAL")[1:], what="the relay")
    assert relayed.body["thread_ts"] == event["ts"] and relayed.body["text"].startswith("From the program team: ann@example.org: ")


async def test_without_the_csrf_token_from_another_site_or_signed_out_nothing_is_sent(server: Server) -> None:
    answer_id, handoff_id = await server.handed_off()
    session, csrf = await server.dashboard.sign_in()
    path = f"/staff/handoffs/{handoff_id}/reply"
    assert (await server.dashboard.post(path, {"text": REPLY}, session)).status == 403
    assert (await server.dashboard.post(path, {"text": REPLY, "csrf": "0" * 64}, session)).status == 403
    assert (await server.dashboard.post(path, {"text": REPLY, "csrf": csrf}, session, Origin="https://evil.example")).status == 403
    assert (await server.dashboard.post(path, {"text": REPLY, "csrf": csrf}, None)).status == 401
    publish = f"/staff/handoffs/{handoff_id}/publish"
    assert (await server.dashboard.post(publish, {"title": "x"}, session, **{"Sec-Fetch-Site": "cross-site"})).status == 403
    assert (await server.dashboard.post(path, {"text": "   ", "csrf": csrf}, session)).headers["Location"].startswith("/staff/handoffs?problem=empty")
    assert (await server.dashboard.post("/staff/handoffs/nope/reply", {"text": REPLY, "csrf": csrf}, session)).status == 404

    await server.dashboard.guidebot.handoffs.idle()
    assert (await server.console.replies(answer_id))[1]["replies"] == [] and not answered_posts(server.fake, "ann@example.org")
    stored = server.dashboard.guidebot.store.handoff(handoff_id)
    assert stored is not None and stored.state == "open" and not stored.replies
    assert not (server.knowledge / "documents" / "program-team-answers.md").exists()

    for path in ("/staff/handoffs", "/staff/handoffs?state=answered"):
        response = await server.dashboard.get(path)
        assert response.status == 303 and response.headers["Location"] == "/staff/sign-in"
    assert (await server.dashboard.get("/staff/api/handoffs")).status == 401


def test_the_queue_lists_open_hand_offs_oldest_first_and_the_others_newest_first(database_url: str) -> None:  # noqa: F811 - the fixture
    clock = Clock(datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc))
    store = SqlStore(database_url, clock)
    try:
        made = []
        for n in range(5):
            clock.advance(hours=1)
            handoff, _ = store.open_handoff(Handoff("", f"A{n}", f"question {n}", "Member", "console", {"member": "m"}, False, "refused"))
            made.append(handoff.id)
        for n in (1, 3, 4):
            store.add_handoff_reply(made[n], StaffReply(f"k{n}", "Ann", "Here is how.", clock.now))
        store.mark_published(made[4], "Question four?")
        assert [h.id for h in store.handoff_queue("open", 10)] == [made[0], made[2]]
        assert [h.id for h in store.handoff_queue("answered", 10)] == [made[3], made[1]]
        assert [h.id for h in store.handoff_queue("published", 10)] == [made[4]]
        assert [h.id for h in store.handoff_queue("open", 1)] == [made[0]]
        assert store.handoff_counts() == {"open": 2, "answered": 2, "published": 1}
    finally:
        store.close()
