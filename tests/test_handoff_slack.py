"""Hand-offs end to end on Slack: signed requests into the real Bolt app, Web API calls to the local fake.

A member's refused question goes to the program team's channel with a click; a staff reply in the
hand-off's thread comes back into the member's thread as "From the program team:"; double clicks,
retried events and a restart change none of that; patient details never reach the staff channel.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.handoff_blocks import ASK_TEAM_ACTION, ASK_TEAM_BLOCK, PUBLISH_ACTION, SENT_NOTE
from guidebot_testing.slack import FakeSlack, SlackEnv, mention, message, slack_settings, start_env, stop_env
from tests.test_slack_render import check_message

STAFF = "C0STAFF01"
MEMBER = "U0MEMBER1"
REFUSED = "What will the weather be like in Boston tomorrow?"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(names={MEMBER: "Dr. Rivera", "U0STAFF01": "Ann Lee", "U0STAFF02": "Bo Chen"}).start()
    yield server
    await server.close()


@pytest.fixture
async def slack(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack) -> AsyncIterator[SlackEnv]:
    env = await start_env(slack_settings(guide_settings, tmp_path, fake, staff_channel=f"slack:{STAFF}"), embedder, fake)
    yield env
    await stop_env(env)


def in_channel(fake: FakeSlack, channel: str) -> list[Any]:
    return [c for c in fake.sent("chat.postMessage") if c.body.get("channel") == channel]


def ask_button(call: Any) -> dict[str, Any] | None:
    for block in call.body.get("blocks") or []:
        if block.get("block_id") == ASK_TEAM_BLOCK:
            return block["elements"][0]
    return None


async def refused_in_thread(env: SlackEnv, text: str = REFUSED, channel: str = "C0GENERAL") -> tuple[dict[str, Any], Any]:
    """The member asks in a channel; returns their event and the refusal guidebot posted under it."""
    event = mention(text, user=MEMBER, channel=channel)
    await env.send_event(event)
    post = (await env.fake.wait_for(lambda: in_channel(env.fake, channel), what="the refusal"))[-1]
    return event, post


async def click_ask(env: SlackEnv, event: dict[str, Any], post: Any, value: str | None = None) -> str:
    button = ask_button(post)
    assert button is not None, "the refusal offers the program team"
    shown = {"ts": "1700000000.900001", "thread_ts": event["ts"], "text": post.body["text"], "blocks": post.body["blocks"]}
    return await env.click(
        {"action_id": ASK_TEAM_ACTION, "type": "button", "value": value or button["value"]}, user=MEMBER, channel=event["channel"], message=shown
    )


def staff_post_ts(env: SlackEnv) -> str:
    [handoff] = env.guidebot.store.handoffs()
    assert handoff.staff_post is not None
    return str(handoff.staff_post.ref["ts"])


async def staff_reply(env: SlackEnv, text: str, *, user: str = "U0STAFF01", event_id: str | None = None, ts: str | None = None, retry: int | None = None) -> dict[str, Any]:
    event = message(text, user=user, channel=STAFF, channel_type="channel", thread_ts=staff_post_ts(env), **({"ts": ts} if ts else {}))
    status, _ = await env.send_event(event, event_id=event_id, retry=retry)
    assert status == 200
    return event


async def test_a_refusal_goes_to_the_program_team_and_their_reply_comes_back_into_the_thread(slack: SlackEnv) -> None:
    fake = slack.fake
    event, refusal = await refused_in_thread(slack)
    button = ask_button(refusal)
    assert button is not None and button["text"]["text"] == "Ask the program team"
    assert "your name go to the program team" in json.dumps(refusal.body["blocks"]), "the member is told before sending"
    check_message({"text": refusal.body["text"], "blocks": refusal.body["blocks"]})

    await click_ask(slack, event, refusal)
    [staff_post] = await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
    shown = json.dumps(staff_post.body["blocks"])
    for expected in (REFUSED, "Dr. Rivera", "Slack", "Said the guide doesn't cover it.", "Reply in this thread to answer", "Add to the guide"):
        assert expected in shown, expected
    check_message({"text": staff_post.body["text"], "blocks": staff_post.body["blocks"]})
    confirmed = await fake.wait_for(lambda: [c for c in fake.sent("chat.update") if SENT_NOTE in json.dumps(c.body)], what="the confirmation")
    assert confirmed[0].body["channel"] == "C0GENERAL" and ask_button(confirmed[0]) is None, "confirmed in place, the button gone"

    await staff_reply(slack, "The forecast is not ours to give, but the program office can help: write to office@example.org.")
    relayed = await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay")
    [reply] = relayed
    assert reply.body["thread_ts"] == event["ts"], "in the member's own thread"
    text = json.dumps(reply.body["blocks"])
    assert reply.body["text"].startswith("From the program team: Ann Lee: ") and "office@example.org" in text
    assert any(b["type"] == "context_actions" for b in reply.body["blocks"]), "👍 / 👎 like any answer"
    check_message({"text": reply.body["text"], "blocks": reply.body["blocks"]})
    answered = await fake.wait_for(
        lambda: [c for c in fake.sent("chat.update") if c.body.get("channel") == STAFF and "Answered by Ann Lee" in json.dumps(c.body)],
        what="the staff post marked answered",
    )
    assert answered[0].body["ts"] == staff_post_ts(slack)

    await staff_reply(slack, "Also: the office is closed on Fridays.", user="U0STAFF02")
    follow_up = (await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[2:], what="the follow-up"))[0]
    assert follow_up.body["text"].startswith("More from the program team: Bo Chen: ")
    [handoff] = slack.guidebot.store.handoffs()
    assert handoff.state == "answered" and [r.who for r in handoff.replies] == ["Ann Lee", "Bo Chen"]
    assert len(in_channel(fake, STAFF)) == 1, "guidebot never answers the staff's replies as questions"


async def test_double_clicks_and_retried_events_give_one_hand_off_and_one_relay(slack: SlackEnv) -> None:
    fake = slack.fake
    event, refusal = await refused_in_thread(slack)
    await asyncio.gather(*(click_ask(slack, event, refusal) for _ in range(3)))
    await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
    await slack.guidebot.handoffs.idle()
    await slack.idle()
    assert len(in_channel(fake, STAFF)) == 1 and len(slack.guidebot.store.handoffs()) == 1

    reply = await staff_reply(slack, "Ask the program office.", event_id="EvSTAFF0001")
    await staff_reply(slack, "Ask the program office.", event_id="EvSTAFF0001", ts=reply["ts"], retry=1)
    await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay")
    await slack.guidebot.handoffs.idle()
    await slack.idle()
    assert len(in_channel(fake, "C0GENERAL")) == 2, "the refusal and one relay"
    assert len(slack.guidebot.store.handoffs()[0].replies) == 1


async def test_a_restart_between_hand_off_and_reply_loses_nothing(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    config = slack_settings(guide_settings, tmp_path, fake, staff_channel=f"slack:{STAFF}", work_lease_seconds=1)
    first = await start_env(config, embedder, fake)
    event, refusal = await refused_in_thread(first)
    fake.fail("chat.postMessage", status=503, times=None)  # Slack is down as the hand-off is made
    await click_ask(first, event, refusal)
    await fake.wait_for(lambda: fake.attempts("chat.postMessage")[2:], what="a try at the staff post")
    await stop_env(first, close_fake=False)
    assert in_channel(fake, STAFF) == []
    fake._faults.clear()

    await asyncio.sleep(1.2)  # the stopped replica's lease lapses
    second = await start_env(config, embedder, fake)
    try:
        await fake.wait_for(lambda: in_channel(fake, STAFF), what="the recovered staff post")
        await second.guidebot.handoffs.idle()
        await staff_reply(second, "We will call you this week.")
        [reply] = await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay")
        assert reply.body["thread_ts"] == event["ts"] and "We will call you this week." in json.dumps(reply.body["blocks"])
        assert len(in_channel(fake, STAFF)) == 1
    finally:
        await stop_env(second)


async def test_patient_details_never_reach_the_staff_channel_or_the_database(slack: SlackEnv) -> None:
    fake = slack.fake
    question = "My patient John Smith, MRN 55512345, asks about the weather in Boston tomorrow"
    event, refusal = await refused_in_thread(slack, question)
    assert ask_button(refusal) is None, "a message with patient details is refused as such, with no button"
    [logged] = slack.guidebot.store.questions()
    await click_ask(slack, event, _Post(refusal, logged.answer_id))  # a click forged for the refused question
    [staff_post] = await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
    posted = json.dumps(staff_post.body)
    assert "55512345" not in posted and "John Smith" not in posted and "[MRN]" in posted
    [handoff] = slack.guidebot.store.handoffs()
    assert "55512345" not in repr(handoff) and "John Smith" not in repr(handoff)


class _Post:
    """A posted message whose blocks offer "Ask the program team" for `answer_id` (a forged click)."""

    def __init__(self, post: Any, answer_id: str) -> None:
        button = {"block_id": ASK_TEAM_BLOCK, "type": "actions", "elements": [{"value": answer_id}]}
        self.body = {**post.body, "blocks": [*post.body["blocks"], button]}


async def test_a_thumbs_down_offers_the_program_team_and_without_a_staff_channel_nothing_does(
    slack: SlackEnv, guide_settings: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    await slack.send_event(mention("What does a VPMA do?", user=MEMBER, channel="C0GENERAL"))
    [answer] = await fake.wait_sent("chat.postMessage")
    assert ask_button(answer) is None, "an answer offers the team only after a 👎"
    down = next(e["negative_button"]["value"] for b in answer.body["blocks"] if b["type"] == "context_actions" for e in b["elements"])
    shown = {"ts": "1700000000.800001", "thread_ts": "1", "text": answer.body["text"], "blocks": answer.body["blocks"]}
    await slack.click({"action_id": "guide_feedback", "type": "feedback_buttons", "value": down}, user=MEMBER, channel="C0GENERAL", message=shown)
    [noted] = await fake.wait_sent("chat.update")
    assert ask_button(noted) is not None and ask_button(noted)["value"] == down.split(":", 1)[1]  # type: ignore[index]

    plain = await start_env(slack_settings(guide_settings, tmp_path / "plain", fake), embedder, fake)
    try:
        fake.calls.clear()
        _, refusal = await refused_in_thread(plain, channel="C0PLAIN01")
        assert ask_button(refusal) is None
        assert plain.guidebot.handoffs.enabled is False
    finally:
        await stop_env(plain, close_fake=False)


async def test_add_to_the_guide_writes_the_reply_into_the_program_team_document(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    knowledge = tmp_path / "knowledge"
    (knowledge / "documents").mkdir(parents=True)
    env = await start_env(slack_settings(guide_settings, tmp_path, fake, staff_channel=f"slack:{STAFF}", knowledge_dir=knowledge), embedder, fake)
    try:
        event, refusal = await refused_in_thread(env)
        url = fake.response_url()
        await click_ask(env, event, refusal)
        await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
        [handoff] = env.guidebot.store.handoffs()
        await env.click({"action_id": PUBLISH_ACTION, "type": "button", "value": handoff.id}, response_url=url, user="U0STAFF01", channel=STAFF)
        [early] = await fake.wait_for(lambda: fake.responses(url), what="the answer to the click")
        assert "no reply to add yet" in json.dumps(early.body)

        await staff_reply(env, "Check the forecast on weather.gov; the program has no say in it.")
        await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay")
        await env.click({"action_id": PUBLISH_ACTION, "type": "button", "value": handoff.id}, response_url=url, user="U0STAFF01", channel=STAFF)
        await fake.wait_for(lambda: fake.responses(url)[1:], what="the publish confirmation")
        document = (knowledge / "documents" / "program-team-answers.md").read_text()
        assert f"## {REFUSED}" in document and "Check the forecast on weather.gov; the program has no say in it." in document
        assert env.guidebot.store.handoff(handoff.id).state == "published"
        await fake.wait_for(lambda: [c for c in fake.sent("chat.update") if "Added to the guide" in json.dumps(c.body)], what="the post marked")
    finally:
        await stop_env(env)


async def test_an_open_hand_off_is_reminded_of_once_in_its_thread_and_a_mention_there_is_no_question(slack: SlackEnv) -> None:
    fake = slack.fake
    event, refusal = await refused_in_thread(slack)
    await click_ask(slack, event, refusal)
    await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
    desk = slack.guidebot.handoffs
    await desk.idle()
    later = datetime.now(timezone.utc) + timedelta(hours=25)
    desk.clock = lambda: later
    for _ in range(2):
        await desk.sweep_once()
        await desk.idle()
    [post, reminder] = in_channel(fake, STAFF)
    assert reminder.body["thread_ts"] == staff_post_ts(slack) and reminder.body.get("reply_broadcast") in (True, "true", "1")
    assert "Dr. Rivera's question has waited over 24 hours" in reminder.body["text"]

    thread = staff_post_ts(slack)
    staff_mention = mention("can you check this one?", user="U0STAFF02", channel=STAFF, thread_ts=thread)
    await slack.send_event(staff_mention)
    await slack.send_event(message(staff_mention["text"], user="U0STAFF02", channel=STAFF, channel_type="channel", ts=staff_mention["ts"], thread_ts=thread))
    await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay")
    await desk.idle()
    await slack.idle()
    assert len(in_channel(fake, STAFF)) == 2, "no answer from guidebot in the staff thread: the mention is a reply"
    assert len(in_channel(fake, "C0GENERAL")) == 2


async def test_a_private_slash_command_refusal_is_answered_in_a_dm_with_the_member(slack: SlackEnv) -> None:
    fake = slack.fake
    url = await slack.command(REFUSED, user=MEMBER, channel="C0GENERAL")
    [private] = await fake.wait_for(lambda: fake.responses(url), what="the /guide refusal")
    button = ask_button(private)
    assert button is not None
    await slack.click({"action_id": ASK_TEAM_ACTION, "type": "button", "value": button["value"]}, user=MEMBER, channel="C0GENERAL", ephemeral=True)
    await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
    [handoff] = slack.guidebot.store.handoffs()
    assert dict(handoff.reply_to) == {"channel": "D0MEMBER1", "thread_ts": None}, "a DM: the member's Slack id is not kept"
    await staff_reply(slack, "Here is your answer.")
    [relay] = await fake.wait_for(lambda: in_channel(fake, "D0MEMBER1"), what="the relay in the DM")
    assert relay.body.get("thread_ts") is None and relay.body["text"].startswith("From the program team: Ann Lee")


async def test_two_replicas_on_one_database_post_one_hand_off_and_relay_one_reply(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    config = slack_settings(guide_settings, tmp_path, fake, staff_channel=f"slack:{STAFF}")
    first, second = await start_env(config, embedder, fake), await start_env(config, embedder, fake)
    try:
        event, refusal = await refused_in_thread(first)
        await asyncio.gather(click_ask(first, event, refusal), click_ask(second, event, refusal), click_ask(first, event, refusal))
        await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
        await asyncio.gather(first.guidebot.handoffs.idle(), second.guidebot.handoffs.idle())
        reply = await staff_reply(first, "One answer, however many replicas.", event_id="EvSTAFF0002")
        await staff_reply(second, "One answer, however many replicas.", event_id="EvSTAFF0002", ts=reply["ts"], retry=1)
        await fake.wait_for(lambda: in_channel(fake, "C0GENERAL")[1:], what="the relay")
        await asyncio.gather(first.guidebot.handoffs.idle(), second.guidebot.handoffs.idle(), first.idle(), second.idle())
        assert len(in_channel(fake, STAFF)) == 1 and len(in_channel(fake, "C0GENERAL")) == 2
    finally:
        await stop_env(first, close_fake=False)
        await stop_env(second)


def test_a_staff_reply_keeps_its_links_addresses_and_paragraphs() -> None:
    from adapters.slack.handoff import reply_text

    raw = "<@UBOT0001> Fill in <https://ex.org/form|the form> or see <https://ex.org/a>; mail <mailto:o@ex.org|o@ex.org> &amp; ask <@U1|ann> <!channel>\n\n\n\nSecond   para."
    assert reply_text(raw, "UBOT0001") == "Fill in the form (https://ex.org/form) or see https://ex.org/a; mail o@ex.org & ask @ann\n\nSecond para."


def test_a_thumbs_down_after_the_hand_off_was_sent_offers_no_second_button() -> None:
    from adapters.slack.handoff_blocks import after_vote, ask_team_blocks, with_sent_note

    sent = with_sent_note([{"type": "section", "block_id": "guide_abstain"}, *ask_team_blocks("A1")])
    assert [b["block_id"] for b in after_vote(sent, "down", "A1", True)] == ["guide_abstain", "guide_ask_team_sent"]
    assert after_vote([], "down", "handoff:h1:1", True) == [], "a team reply is not handed off again"
    assert after_vote([], "down", "A1", False) == [] and after_vote([], "up", "A1", True) == []


async def test_a_reply_slack_will_not_deliver_to_the_member_is_told_in_the_staff_thread(slack: SlackEnv) -> None:
    fake = slack.fake
    event, refusal = await refused_in_thread(slack)
    await click_ask(slack, event, refusal)
    await fake.wait_for(lambda: in_channel(fake, STAFF), what="the staff post")
    await slack.guidebot.handoffs.idle()
    fake.fail("chat.postMessage", status=200, error="channel_not_found")  # the member's conversation is gone
    await staff_reply(slack, "Here is your answer.")
    [_, notice] = await fake.wait_for(lambda: in_channel(fake, STAFF)[1:] and in_channel(fake, STAFF), what="the notice")
    assert notice.body["thread_ts"] == staff_post_ts(slack)
    assert "Ann Lee's reply could not be delivered to Dr. Rivera on Slack (Slack refused it)" in notice.body["text"]
    assert len(in_channel(fake, "C0GENERAL")) == 1
