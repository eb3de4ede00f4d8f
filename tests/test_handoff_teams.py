"""Hand-offs end to end on Teams, and across Teams and Slack: Bot Framework activities into the real SDK
(the replies recorded by the local connector), signed Slack requests into the real Bolt app (its Web API
calls recorded by the Slack fake), both adapters mounted on one server over one core.

A Teams member's refused question goes, with a card press, to a Slack staff channel, and the reply in
its thread comes back into the member's Teams chat; a Slack member's goes to a Teams staff channel, and
a reply in the post's chain (or its reply field) comes back into the Slack thread. Double presses give
one hand-off; no card without a staff channel; patient details never reach the staff post.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import mount as mount_slack
from adapters.slack.app import SLACK_ADAPTER
from adapters.teams import mount as mount_teams
from adapters.teams.handoff import staff_reply_text
from adapters.teams.handoff_cards import ASK_TEAM_ACTION, ASK_TEAM_LABEL, SENT_NOTE, STAFF_REPLY_ACTION
from bot.handoff import relay_answer_id
from bot.store import SqlStore
from bot.wiring import build_guidebot
from guidebot_testing.slack import FakeSlack, SlackEnv, slack_settings
from guidebot_testing.teams import BOT_ID, BOT_NAME, TENANT, FakeConnector, Sent, TeamsHarness, teams_config
from conftest_store import database_url, postgres_schema_url  # noqa: F401
from tests.test_handoff_slack import MEMBER, REFUSED, click_ask, in_channel, refused_in_thread

SLACK_STAFF = "C0STAFF01"
TEAMS_STAFF = "19:program-staff@thread.tacv2"
TEAM = "19:program-team@thread.tacv2"
STAFF_MEMBER = {"id": "29:staff-1", "name": "Ann Lee", "aadObjectId": "00000000-0000-0000-0000-0000000005af"}


@dataclass
class Both:
    slack: SlackEnv
    teams: TeamsHarness

    @property
    def guidebot(self) -> Any:
        return self.teams.guidebot

    async def settle(self) -> None:
        await self.teams.idle()
        await self.slack.idle()
        await self.guidebot.handoffs.idle()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(names={MEMBER: "Dr. Rivera", "U0STAFF01": "Bo Chen"}).start()
    yield server
    await server.close()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    server = await FakeConnector().start()
    yield server
    await server.close()


async def start_both(base: Any, tmp_path: Path, embedder: Any, fake: FakeSlack, connector: FakeConnector, staff: str | None, **extra: Any) -> Both:
    slack = slack_settings(base, tmp_path, fake, staff_channel=staff, **extra)
    teams = teams_config(slack.settings)
    guidebot = build_guidebot(slack.settings, embedder)
    app = web.Application()
    mount_slack(app, guidebot, slack.settings, slack.slack)
    mount_teams(app, guidebot, slack.settings, teams.teams)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return Both(SlackEnv(fake, client, guidebot, app[SLACK_ADAPTER]), TeamsHarness(client, connector, guidebot))


async def stop_both(both: Both) -> None:
    await both.teams.client.close()
    both.guidebot.store.close()


@pytest.fixture
async def to_slack(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack, connector: FakeConnector) -> AsyncIterator[Both]:
    both = await start_both(guide_settings, tmp_path, embedder, fake, connector, f"slack:{SLACK_STAFF}")
    yield both
    await stop_both(both)


@pytest.fixture
async def to_teams(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack, connector: FakeConnector) -> AsyncIterator[Both]:
    both = await start_both(guide_settings, tmp_path, embedder, fake, connector, f"teams:{TEAMS_STAFF}")
    yield both
    await stop_both(both)


async def wait_for(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = condition()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def offers(connector: FakeConnector) -> list[Sent]:
    return [s for s in connector.messages() if s.card and any(a.get("title") == ASK_TEAM_LABEL for a in s.card.get("actions") or ())]


def texts(connector: FakeConnector, start: str) -> list[Sent]:
    return [s for s in connector.messages() if str(s.body.get("text", "")).startswith(start)]


async def press_ask(teams: TeamsHarness, offer: Sent, **fields: Any) -> int:
    (action,) = offer.card["actions"]  # type: ignore[index]
    status, _ = await teams.post(teams.message("", value=action["data"], replyToId=offer.id, **fields))
    return status


async def teams_refusal(teams: TeamsHarness, text: str = REFUSED) -> Sent:
    status, _ = await teams.post(teams.message(text))
    assert status == 200
    return (await wait_for(lambda: offers(teams.connector), "the offer under the refusal"))[-1]


# --- a Teams member, a Slack staff channel ------------------------------------------------------


async def test_a_teams_refusal_goes_to_a_slack_staff_channel_and_the_reply_comes_back_into_the_teams_chat(to_slack: Both) -> None:
    teams, fake, connector = to_slack.teams, to_slack.slack.fake, to_slack.teams.connector
    offer = await teams_refusal(teams)
    refusal = connector.messages()[0]
    assert "doesn't cover" in refusal.body["text"] or "can't answer" in refusal.body["text"] or refusal.body["text"]
    assert "your name go to the program team" in json.dumps(offer.card), "the member is told before sending"
    assert offer.is_reply and offer.conversation_id == "a:personal-chat-1"

    assert await press_ask(teams, offer) == 200
    [staff_post] = await fake.wait_for(lambda: in_channel(fake, SLACK_STAFF), what="the staff post in Slack")
    shown = json.dumps(staff_post.body["blocks"])
    for expected in (REFUSED, "Dr Ada Lovelace", "Microsoft Teams", "Said the guide doesn't cover it."):
        assert expected in shown, expected
    [confirmed] = connector.updates()
    assert confirmed.activity_id == offer.id and SENT_NOTE in json.dumps(confirmed.card) and not confirmed.card.get("actions")  # type: ignore[union-attr]

    [handoff] = to_slack.guidebot.store.handoffs()
    assert handoff.member_platform == "teams" and "29:member-1" not in json.dumps(dict(handoff.reply_to)), "no member id kept"
    await to_slack.guidebot.handoffs.idle()
    event = {"type": "message", "user": "U0STAFF01", "channel": SLACK_STAFF, "channel_type": "channel", "text": "Write to <mailto:office@example.org|office@example.org>.",
             "ts": "1700000100.000200", "thread_ts": str(handoff_post_ts(to_slack))}
    status, _ = await to_slack.slack.send_event(event)
    assert status == 200
    [relay] = await wait_for(lambda: texts(connector, "**From the program team:**"), "the relay in Teams")
    assert relay.conversation_id == "a:personal-chat-1" and "Bo Chen" in relay.body["text"] and "office@example.org" in relay.body["text"]
    assert relay.body["channelData"]["feedbackLoopEnabled"] is True, "👍 / 👎 like any answer"
    await wait_for(lambda: [c for c in fake.sent("chat.update") if "Answered by Bo Chen" in json.dumps(c.body)], "the Slack post marked answered")

    before = len(connector.messages())
    status, _ = await teams.post(teams.feedback_invoke("dislike", relay.id))
    await to_slack.settle()
    assert status == 200 and len(connector.messages()) == before, "a 👎 on the team's reply offers no hand-off"
    [vote] = to_slack.guidebot.store.feedback_for(relay_answer_id(handoff.id, 1))
    assert vote.value == "down"


def handoff_post_ts(both: Both) -> str:
    [handoff] = both.guidebot.store.handoffs()
    assert handoff.staff_post is not None
    return str(handoff.staff_post.ref["ts"])


async def test_double_presses_give_one_hand_off_and_one_staff_post(to_slack: Both) -> None:
    teams, fake = to_slack.teams, to_slack.slack.fake
    offer = await teams_refusal(teams)
    statuses = await asyncio.gather(*(press_ask(teams, offer) for _ in range(3)))
    assert statuses == [200, 200, 200]
    await fake.wait_for(lambda: in_channel(fake, SLACK_STAFF), what="the staff post")
    await to_slack.settle()
    assert len(in_channel(fake, SLACK_STAFF)) == 1 and len(to_slack.guidebot.store.handoffs()) == 1

    refusal = to_slack.teams.connector.messages()[0]
    status, _ = await teams.post(teams.feedback_invoke("dislike", refusal.id))
    await to_slack.settle()
    assert status == 200 and len(offers(teams.connector)) == 1, "a 👎 on the refusal offers no second card"


async def test_a_thumbs_down_offers_the_program_team_once(to_slack: Both) -> None:
    teams, connector = to_slack.teams, to_slack.teams.connector
    await teams.post(teams.message("What does a VPMA do?"))
    [answer] = connector.messages()
    assert offers(connector) == [], "an answer offers the team only after a 👎"
    for _ in range(2):
        status, _ = await teams.post(teams.feedback_invoke("dislike", answer.id))
        assert status == 200
    await to_slack.settle()
    [offer] = await wait_for(lambda: offers(connector), "the offer after 👎")
    assert offer.activity_id == answer.id
    await asyncio.sleep(0.2)
    assert len(offers(connector)) == 1


async def test_without_a_staff_channel_no_card_is_offered(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack, connector: FakeConnector) -> None:
    both = await start_both(guide_settings, tmp_path, embedder, fake, connector, None)
    try:
        status, _ = await both.teams.post(both.teams.message(REFUSED))
        assert status == 200
        [refusal] = connector.messages()
        await both.teams.post(both.teams.feedback_invoke("dislike", refusal.id))
        await both.settle()
        assert offers(connector) == [] and len(connector.messages()) == 1
        assert both.guidebot.handoffs.enabled is False
    finally:
        await stop_both(both)


async def test_patient_details_never_reach_the_staff_post(to_slack: Both) -> None:
    teams, fake, connector = to_slack.teams, to_slack.slack.fake, to_slack.teams.connector
    status, _ = await teams.post(teams.message("My patient John Smith, MRN 55512345, asks about the weather in Boston tomorrow"))
    assert status == 200
    await to_slack.settle()
    assert offers(connector) == [], "a message with patient details is refused as such, with no card"
    [logged] = to_slack.guidebot.store.questions()
    forged = {"action": ASK_TEAM_ACTION, "answerId": logged.answer_id}
    status, _ = await teams.post(teams.message("", value=forged))
    assert status == 200
    [staff_post] = await fake.wait_for(lambda: in_channel(fake, SLACK_STAFF), what="the staff post")
    posted = json.dumps(staff_post.body)
    assert "55512345" not in posted and "John Smith" not in posted and "[MRN]" in posted


# --- a Slack member, a Teams staff channel ------------------------------------------------------


def staff_channel_activity(teams: TeamsHarness, kind: str, **fields: Any) -> dict[str, Any]:
    channel_data = {"teamsChannelId": TEAMS_STAFF, "teamsTeamId": TEAM, "channel": {"id": TEAMS_STAFF}, "team": {"id": TEAM}, "tenant": TENANT}
    return teams.activity(kind, channelData=channel_data, **fields)


def staff_chain(post_id: str) -> dict[str, Any]:
    return {"id": f"{TEAMS_STAFF};messageid={post_id}", "conversationType": "channel", "isGroup": True, "tenantId": TENANT["id"]}


async def test_a_slack_refusal_goes_to_a_teams_staff_channel_and_a_reply_there_comes_back_into_the_slack_thread(to_teams: Both) -> None:
    teams, fake, connector = to_teams.teams, to_teams.slack.fake, to_teams.teams.connector
    added = staff_channel_activity(
        teams, "conversationUpdate", conversation={"id": TEAMS_STAFF, "conversationType": "channel", "isGroup": True}, membersAdded=[{"id": BOT_ID}]
    )
    status, _ = await teams.post(added)  # the bot is added to the staff's team: it learns where to post
    assert status == 200
    connector.sent.clear()

    event, refusal = await refused_in_thread(to_teams.slack)
    await click_ask(to_teams.slack, event, refusal)
    [post] = await wait_for(lambda: [s for s in connector.messages() if s.conversation_id == TEAMS_STAFF], "the staff post in Teams")
    assert not post.is_reply, "a post of its own in the channel"
    shown = json.dumps(post.card)
    for expected in (REFUSED, "Dr. Rivera", "Slack", "Said the guide doesn't cover it.", "Send reply", "Add to the guide", "mentioning guidebot"):
        assert expected in shown, expected
    await to_teams.settle()

    mention = f"<at>{BOT_NAME}</at>"
    reply = staff_channel_activity(
        teams, "message", conversation=staff_chain(post.id), **{"from": STAFF_MEMBER},
        text=f"{mention} Please write to <a href=\"mailto:office@example.org\">office@example.org</a>.",
        entities=[{"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}],
    )
    status, _ = await teams.post(reply)
    assert status == 200
    [relay] = await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay in the Slack thread")
    assert relay.body["thread_ts"] == event["ts"]
    assert relay.body["text"].startswith("From the program team: Ann Lee: Please write to office@example.org.")
    [marked] = await wait_for(lambda: [u for u in connector.updates() if "Answered by Ann Lee" in json.dumps(u.card)], "the post marked answered")
    assert marked.activity_id == post.id
    assert [s for s in connector.messages() if s.conversation_id.startswith(TEAMS_STAFF) and s is not post] == [], "no answer to the staff's reply"

    submit = {"action": STAFF_REPLY_ACTION, "handoffId": to_teams.guidebot.store.handoffs()[0].id, "replyText": "Also: the office is closed on Fridays."}
    for _ in range(2):  # the reply field, pressed twice
        status, _ = await teams.post(staff_channel_activity(teams, "message", conversation=staff_chain(post.id), replyToId=post.id,
                                                             text="", value=submit, **{"from": STAFF_MEMBER}))
        assert status == 200
    [follow_up] = await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[2:], what="the follow-up")
    assert follow_up.body["text"].startswith("More from the program team: Ann Lee: Also: the office is closed on Fridays.")
    await to_teams.settle()
    assert len(in_channel(fake, "C0GENERAL")) == 3 and len(to_teams.guidebot.store.handoffs()[0].replies) == 2


async def test_a_hand_off_waits_until_the_bot_has_seen_the_teams_staff_channel(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack, connector: FakeConnector
) -> None:
    both = await start_both(guide_settings, tmp_path, embedder, fake, connector, f"teams:{TEAMS_STAFF}", work_lease_seconds=1)
    try:
        event, refusal = await refused_in_thread(both.slack)
        await click_ask(both.slack, event, refusal)
        await both.settle()
        assert connector.messages() == [] and both.guidebot.store.handoffs()[0].staff_post is None

        mention = f"<at>{BOT_NAME}</at>"
        root_id = "1700000000555"
        seen = staff_channel_activity(both.teams, "message", id=root_id, conversation=staff_chain(root_id), text=f"{mention} help",
                                      entities=[{"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}])
        await both.teams.post(seen)  # anyone @mentions guidebot in the staff channel: it is answered, and the channel known
        await asyncio.sleep(1.2)  # the post's lease lapses
        desk = both.guidebot.handoffs
        await desk.inbox.recover_once(desk.posts, desk.spawn)
        await desk.idle()
        [post] = await wait_for(lambda: [s for s in connector.messages() if s.conversation_id == TEAMS_STAFF and s.card], "the staff post")
        assert REFUSED in json.dumps(post.card)
    finally:
        await stop_both(both)


def test_a_staff_reply_loses_the_bot_mention_and_keeps_links_and_paragraphs() -> None:
    from botbuilder.schema import Activity

    activity = Activity().deserialize({
        "type": "message", "id": "1", "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "text": "<p><at>guidebot</at> Fill in <a href=\"https://ex.org/form\">the form</a> &amp; ask <at>Bo</at></p><p>Second&nbsp; para.</p>",
        "entities": [{"type": "mention", "text": "<at>guidebot</at>", "mentioned": {"id": BOT_ID, "name": BOT_NAME}},
                     {"type": "mention", "text": "<at>Bo</at>", "mentioned": {"id": "29:bo", "name": "Bo"}}],
    })
    assert staff_reply_text(activity) == "Fill in the form (https://ex.org/form) & ask Bo\n\nSecond para."


async def test_a_reply_teams_will_not_take_is_told_in_the_slack_staff_thread(to_slack: Both) -> None:
    teams, fake, connector = to_slack.teams, to_slack.slack.fake, to_slack.teams.connector
    offer = await teams_refusal(teams)
    await press_ask(teams, offer)
    await fake.wait_for(lambda: in_channel(fake, SLACK_STAFF), what="the staff post")
    await to_slack.guidebot.handoffs.idle()
    connector.fail_next(403)  # the member's conversation is gone (the app was removed)
    event = {"type": "message", "user": "U0STAFF01", "channel": SLACK_STAFF, "channel_type": "channel", "text": "Here is your answer.",
             "ts": "1700000100.000300", "thread_ts": handoff_post_ts(to_slack)}
    await to_slack.slack.send_event(event)
    [notice] = await fake.wait_for(lambda: in_channel(fake, SLACK_STAFF)[1:], what="the notice in the staff thread")
    assert notice.body["thread_ts"] == handoff_post_ts(to_slack)
    assert "could not be delivered to Dr Ada Lovelace on Microsoft Teams" in notice.body["text"]
    assert texts(connector, "**From the program team:**") == []


async def test_a_teams_staff_post_is_reminded_of_in_its_chain_and_added_to_the_guide_from_its_card(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack, connector: FakeConnector
) -> None:
    knowledge = tmp_path / "knowledge"
    (knowledge / "documents").mkdir(parents=True)
    both = await start_both(guide_settings, tmp_path, embedder, fake, connector, f"teams:{TEAMS_STAFF}", knowledge_dir=knowledge)
    teams = both.teams
    try:
        await teams.post(staff_channel_activity(teams, "conversationUpdate", conversation={"id": TEAMS_STAFF, "conversationType": "channel", "isGroup": True},
                                                membersAdded=[{"id": BOT_ID}]))
        connector.sent.clear()
        event, refusal = await refused_in_thread(both.slack)
        await click_ask(both.slack, event, refusal)
        [post] = await wait_for(lambda: [s for s in connector.messages() if s.conversation_id == TEAMS_STAFF], "the staff post")
        desk = both.guidebot.handoffs
        await desk.idle()
        later = datetime.now(timezone.utc) + timedelta(hours=25)
        desk.clock = lambda: later
        for _ in range(2):
            await desk.sweep_once()
            await desk.idle()
        [reminder] = [s for s in connector.messages() if s is not post]
        assert reminder.conversation_id == f"{TEAMS_STAFF};messageid={post.id}" and reminder.activity_id == post.id, "in the post's chain"
        assert "Dr. Rivera's question has waited over 24 hours" in reminder.body["text"]

        def press(value: dict[str, Any]) -> dict[str, Any]:
            return staff_channel_activity(teams, "message", conversation=staff_chain(post.id), replyToId=post.id, text="", value=value, **{"from": STAFF_MEMBER})

        handoff_id = both.guidebot.store.handoffs()[0].id
        await teams.post(press({"action": "guidebot.handoffPublish", "handoffId": handoff_id}))
        assert "There is no reply to add yet" in connector.messages()[-1].body["text"]
        await teams.post(press({"action": STAFF_REPLY_ACTION, "handoffId": handoff_id, "replyText": "Check weather.gov; the program has no say in it."}))
        await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay")
        await both.settle()
        await teams.post(press({"action": "guidebot.handoffPublish", "handoffId": handoff_id}))
        assert "Added to the guide" in connector.messages()[-1].body["text"]
        document = (knowledge / "documents" / "program-team-answers.md").read_text()
        assert f"## {REFUSED}" in document and "Check weather.gov; the program has no say in it." in document
        await wait_for(lambda: [u for u in connector.updates() if "Added to the guide as" in json.dumps(u.card)], "the post marked published")
    finally:
        await stop_both(both)


def test_a_conversation_reference_is_kept_and_replaced(database_url: str) -> None:  # noqa: F811
    store = SqlStore(database_url)
    try:
        assert store.conversation_ref("teams:19:x@thread.tacv2") is None
        store.remember_conversation("teams:19:x@thread.tacv2", {"serviceUrl": "https://smba.trafficmanager.net/amer/"})
        store.remember_conversation("teams:19:x@thread.tacv2", {"serviceUrl": "https://smba.trafficmanager.net/emea/"})
        store.remember_conversation("teams:19:x@thread.tacv2", {"serviceUrl": "https://smba.trafficmanager.net/emea/"})
        assert store.conversation_ref("teams:19:x@thread.tacv2") == {"serviceUrl": "https://smba.trafficmanager.net/emea/"}
    finally:
        store.close()
