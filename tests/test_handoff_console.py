"""Hand-offs from the web console, end to end: the console's JSON API in, a Slack staff channel (the local fake) out.

A refusal in the console offers "Ask the program team"; the hand-off is posted in the staff channel; a
staff reply in its thread comes back to the console session that sent it (and no other), with the
replier's name and 👍 / 👎; a double click makes one hand-off; without a staff channel there is nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.console import SESSION_COOKIE, STATIC
from adapters.console import mount as mount_console
from adapters.console.handoff import DEFAULT_NAME, SENT_NOTE
from adapters.slack import mount as mount_slack
from adapters.slack.app import SLACK_ADAPTER
from bot.handoff import relay_answer_id
from bot.http import plumbed_app
from bot.wiring import build_guidebot
from guidebot_testing.slack import FakeSlack, SlackEnv, message, slack_settings

STAFF = "C0STAFF01"
REFUSED = "What will the weather be like in Boston tomorrow?"
ANSWERED = "What does a VPMA do?"
ALICE = "console-session-alice-0001"
BOB = "console-session-bob-00000002"


@dataclass
class Console:
    """The server (Slack and the console mounted on one core), driven as browsers with a session each."""

    env: SlackEnv
    client: TestClient

    @property
    def fake(self) -> FakeSlack:
        return self.env.fake

    async def call(self, method: str, path: str, session: str | None, body: Any = None, content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": content_type} if body is not None else {}
        if session is not None:
            headers["Cookie"] = f"{SESSION_COOKIE}={session}"
        data = json.dumps(body) if body is not None and not isinstance(body, str) else body
        response = await self.client.request(method, path, data=data, headers=headers)
        return response.status, await response.json(content_type=None)

    async def ask(self, question: str, session: str = ALICE) -> dict[str, Any]:
        status, data = await self.call("POST", "/api/ask", session, {"question": question})
        assert status == 200, data
        return data

    async def hand_off(self, answer_id: str, session: str = ALICE, **extra: Any) -> tuple[int, dict[str, Any]]:
        return await self.call("POST", "/api/handoff", session, {"answer_id": answer_id, **extra})

    async def replies(self, answer_id: str, session: str | None = ALICE) -> tuple[int, dict[str, Any]]:
        return await self.call("GET", f"/api/handoff/{answer_id}", session)


async def start_console(settings: Any, embedder: Any, fake: FakeSlack) -> Console:
    guidebot = build_guidebot(settings.settings, embedder)
    app = plumbed_app(settings.settings)
    mount_slack(app, guidebot, settings.settings, settings.slack)
    mount_console(app, guidebot, settings.settings)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return Console(SlackEnv(fake, client, guidebot, app[SLACK_ADAPTER]), client)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(names={"U0STAFF01": "Ann Lee", "U0STAFF02": "Bo Chen"}).start()
    yield server
    await server.close()


@pytest.fixture
async def console(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Console]:
    started = await start_console(slack_settings(guide_settings, tmp_path, fake, staff_channel=f"slack:{STAFF}"), embedder, fake)
    yield started
    await started.client.close()
    started.env.guidebot.store.close()


def staff_posts(fake: FakeSlack) -> list[Any]:
    return [c for c in fake.sent("chat.postMessage") if c.body.get("channel") == STAFF and not c.body.get("thread_ts")]


async def staff_reply(console: Console, text: str, user: str = "U0STAFF01") -> None:
    [handoff] = console.env.guidebot.store.handoffs()
    assert handoff.staff_post is not None
    event = message(text, user=user, channel=STAFF, channel_type="channel", thread_ts=str(handoff.staff_post.ref["ts"]))
    status, _ = await console.env.send_event(event)
    assert status == 200


async def wait_replies(console: Console, answer_id: str, count: int) -> dict[str, Any]:
    for _ in range(150):
        await console.env.guidebot.handoffs.idle()
        status, data = await console.replies(answer_id)
        assert status == 200, data
        if len(data["replies"]) >= count:
            return data
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {count} replies for {answer_id}")


async def test_a_console_refusal_goes_to_the_program_team_and_the_reply_comes_back_to_that_session(console: Console) -> None:
    fake = console.fake
    refusal = await console.ask(REFUSED)
    assert refusal["answered"] is False and refusal["reason"] == "out_of_scope" and refusal["handoff"] is True
    answer_id = refusal["answer_id"]

    status, sent = await console.hand_off(answer_id, name="  Dr.\tOkafor ")
    assert status == 200 and sent["message"] == SENT_NOTE == "Sent to the program team. Their reply will come here."
    [post] = await fake.wait_for(lambda: staff_posts(fake), what="the staff post")
    shown = json.dumps(post.body)
    for expected in (REFUSED, "Dr. Okafor", "the web console", "Said the guide doesn't cover it.", "Reply in this thread"):
        assert expected in shown, expected
    [handoff] = console.env.guidebot.store.handoffs()
    assert handoff.member_platform == "console" and ALICE not in json.dumps(dict(handoff.reply_to)), "the session id is kept hashed"
    assert (await console.replies(answer_id)) == (200, {"answer_id": answer_id, "state": "open", "replies": []})

    await staff_reply(console, "The forecast is not ours to give: write to office@example.org.")
    data = await wait_replies(console, answer_id, 1)
    [reply] = data["replies"]
    assert data["state"] == "answered"
    assert reply["who"] == "Ann Lee" and reply["number"] == 1 and "office@example.org" in reply["text"]
    assert reply["answer_id"] == relay_answer_id(handoff.id, 1)
    await fake.wait_for(
        lambda: [c for c in fake.sent("chat.update") if c.body.get("channel") == STAFF and "Answered by Ann Lee" in json.dumps(c.body)],
        what="the staff post marked answered",
    )
    assert not [c for c in fake.sent("chat.postMessage") if "could not be delivered" in json.dumps(c.body)], "the console took the relay"

    status, voted = await console.call("POST", "/api/feedback", ALICE, {"answer_id": reply["answer_id"], "value": "up"})
    assert status == 200 and voted["ok"] is True
    [vote] = console.env.guidebot.store.feedback_for(reply["answer_id"])
    assert vote.value == "up" and vote.platform == "console"

    await staff_reply(console, "Also: the office is closed on Fridays.", user="U0STAFF02")
    follow_up = (await wait_replies(console, answer_id, 2))["replies"][1]
    assert follow_up["who"] == "Bo Chen" and follow_up["number"] == 2

    # Another browser can neither read the reply, vote on it, nor hand the question off again.
    assert (await console.replies(answer_id, BOB))[0] == 404
    assert (await console.replies(answer_id, None))[0] == 404
    assert (await console.call("POST", "/api/feedback", BOB, {"answer_id": reply["answer_id"], "value": "down"}))[0] == 404
    assert (await console.hand_off(answer_id, BOB))[0] == 404
    assert len(console.env.guidebot.store.feedback_for(reply["answer_id"])) == 1


async def test_double_clicks_give_one_hand_off_and_another_session_cannot_make_one(console: Console) -> None:
    fake = console.fake
    answer_id = (await console.ask(REFUSED))["answer_id"]
    status, data = await console.hand_off(answer_id, BOB)
    assert (status, data["error"]) == (404, "unknown_answer")
    assert (await console.hand_off(answer_id, None))[0] == 404
    assert console.env.guidebot.store.handoffs() == []

    results = await asyncio.gather(*(console.hand_off(answer_id) for _ in range(4)))
    assert [status for status, _ in results] == [200] * 4
    await fake.wait_for(lambda: staff_posts(fake), what="the staff post")
    await console.env.guidebot.handoffs.idle()
    assert len(console.env.guidebot.store.handoffs()) == 1 and len(staff_posts(fake)) == 1


async def test_a_thumbs_down_answer_can_go_to_the_team_unnamed_and_bad_requests_are_refused(console: Console) -> None:
    fake = console.fake
    answer = await console.ask(ANSWERED)
    assert answer["answered"] is True and answer["handoff"] is True, "offered after a 👎 (the page shows it then)"
    phi = await console.ask("My patient John Smith, MRN 55512345, asks about the weather")
    assert phi["reason"] == "phi" and "handoff" not in phi
    summary = await console.ask("help")
    assert "kind" in summary and "handoff" not in summary

    assert (await console.call("POST", "/api/handoff", ALICE, f"answer_id={answer['answer_id']}", "application/x-www-form-urlencoded"))[0] == 415
    assert (await console.hand_off(answer["answer_id"], name="x" * 81))[0] == 400
    assert (await console.hand_off("not an id"))[0] == 400
    assert (await console.hand_off(relay_answer_id("abc", 1)))[0] == 400
    assert console.env.guidebot.store.handoffs() == []

    assert (await console.hand_off(answer["answer_id"], name="   "))[0] == 200
    [post] = await fake.wait_for(lambda: staff_posts(fake), what="the staff post")
    assert DEFAULT_NAME in json.dumps(post.body) and "Answered from the guide" in json.dumps(post.body)


async def test_without_a_staff_channel_the_console_offers_nothing(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    console = await start_console(slack_settings(guide_settings, tmp_path, fake), embedder, fake)
    try:
        refusal = await console.ask(REFUSED)
        answer = await console.ask(ANSWERED)
        assert "handoff" not in refusal and "handoff" not in answer
        assert (await console.hand_off(refusal["answer_id"]))[0] == 404
        assert (await console.replies(refusal["answer_id"]))[0] == 404
        assert console.env.guidebot.store.handoffs() == []
    finally:
        await console.client.close()
        console.env.guidebot.store.close()


def test_the_page_says_what_the_button_sends_and_announces_the_confirmation() -> None:
    html = (STATIC / "index.html").read_text()
    template = html[html.index('<template id="tpl-handoff">') :]
    template = template[: template.index("</template>")]
    assert "Ask the program team" in template and "your name go to the program team" in template
    assert "<label" in template and "(optional)" in template and 'role="status"' in template and 'aria-live="polite"' in template
    script = (STATIC / "console.js").read_text()
    assert "/api/handoff" in script and "From the program team:" in script
    assert "<script>" not in html and "onclick" not in html.lower(), "no inline script under the CSP"
