"""Slack end to end: signed Events API requests in, Web API calls to a local fake Slack out.

The real Bolt app, slack_sdk client, core and index (the session's real model),
a private SQLite store per test. Each test is a short conversation: what the
member does in Slack, and what guidebot must (or must not) post. Every payload
guidebot posts is checked against Block Kit's shapes and limits
(`check_message` from the renderer tests).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.delivery import STATUS_SEARCHING
from adapters.slack.listeners import RECOVERY_ATTEMPTS
from adapters.slack.render import FAILURE_TEXT
from bot.summaries import suggested_prompts
from guidebot_testing.slack import (
    BOT_ID,
    BOT_USER_ID,
    FakeSlack,
    SlackEnv,
    event_callback,
    mention,
    message,
    next_ts,
    sign,
    slack_settings,
    start_env,
    stop_env,
)
from tests.conftest import VPMA_SENTENCES
from tests.test_slack_render import check_message

QUESTION = "What does a VPMA do?"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.close()


@pytest.fixture
async def slack(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack) -> AsyncIterator[SlackEnv]:
    env = await start_env(slack_settings(guide_settings, tmp_path, fake), embedder, fake)
    yield env
    await stop_env(env)


def quotes(call: Any) -> list[dict[str, Any]]:
    return [b for b in call.body.get("blocks", []) if b["type"] == "rich_text"]


def answered(call: Any) -> bool:
    return bool(quotes(call)) and any(b["type"] == "context_actions" for b in call.body["blocks"])


def posted(call: Any) -> dict[str, Any]:
    """The message part of a chat.postMessage call, validated as Block Kit."""
    return check_message({k: call.body[k] for k in ("text", "blocks") if k in call.body})


# ---------------------------------------------------------------- conversations


async def test_a_mention_is_answered_in_a_thread_under_the_question(slack: SlackEnv) -> None:
    event = mention(QUESTION, channel="C0GENERAL")
    status, _ = await slack.send_event(event)
    assert status == 200
    [post] = await slack.fake.wait_sent("chat.postMessage")
    assert post.body["channel"] == "C0GENERAL" and post.body["thread_ts"] == event["ts"]
    assert answered(post)
    body = json.dumps(posted(post)["blocks"])
    assert "Vice President of Medical Affairs" in body
    assert "Sources: [1]" in post.body["text"]
    assert post.body["blocks"][0]["block_id"] == "guide_lead", "the answering sentence first"
    assert post.body["text"].startswith(VPMA_SENTENCES), "and first in the notification"


async def test_a_direct_message_is_answered_in_the_dm(slack: SlackEnv) -> None:
    await slack.send_event(message("What is a Certified Physician Executive?", channel="D0DIRECT1"))
    [post] = await slack.fake.wait_sent("chat.postMessage")
    assert post.body["channel"] == "D0DIRECT1" and post.body.get("thread_ts") is None
    assert answered(post) and "Certified Physician Executive" in json.dumps(posted(post)["blocks"])


async def test_a_follow_up_in_a_thread_guidebot_answered_needs_no_mention(slack: SlackEnv) -> None:
    first = mention("What degrees help a physician become a CMO?", channel="C0GENERAL")
    await slack.send_event(first)
    await slack.fake.wait_sent("chat.postMessage")
    await slack.send_event(message("and the MHA?", channel="C0GENERAL", channel_type="channel", thread_ts=first["ts"]))
    posts = await slack.fake.wait_sent("chat.postMessage", 2)
    follow_up = posts[1]
    assert follow_up.body["thread_ts"] == first["ts"]
    assert answered(follow_up) and "Master of Health Administration" in json.dumps(posted(follow_up)["blocks"])


async def test_threads_guidebot_never_answered_in_are_left_alone(slack: SlackEnv) -> None:
    await slack.send_event(message("and the MHA?", channel="C0GENERAL", channel_type="channel", thread_ts=next_ts()))
    await slack.send_event(message(QUESTION, channel="C0GENERAL", channel_type="channel"))  # channel talk, no mention
    await slack.idle()
    assert slack.fake.sent("chat.postMessage") == []


async def test_a_retry_of_an_answered_event_posts_nothing(slack: SlackEnv) -> None:
    event = mention(QUESTION)
    await slack.send_event(event, event_id="EvRETRY0001")
    await slack.fake.wait_sent("chat.postMessage")
    status, _ = await slack.send_event(event, event_id="EvRETRY0001", retry=1)
    assert status == 200
    # and a replay racing a retry at the same moment
    results = await asyncio.gather(*(slack.send_event(event, event_id="EvRETRY0001", retry=n) for n in (2, 3)))
    assert [s for s, _ in results] == [200, 200]
    await slack.idle()
    assert len(slack.fake.sent("chat.postMessage")) == 1


async def test_the_message_event_beside_an_app_mention_gets_no_second_answer(slack: SlackEnv) -> None:
    ts = next_ts()
    in_channel = mention(QUESTION, channel="C0GENERAL", ts=ts)
    duplicate = message(in_channel["text"], channel="C0GENERAL", channel_type="channel", ts=ts)
    await asyncio.gather(slack.send_event(duplicate), slack.send_event(in_channel))
    # In a DM both events route to the same answer; the claim on channel+ts keeps one.
    dm_ts = next_ts()
    in_dm = mention(QUESTION, channel="D0DIRECT1", ts=dm_ts)
    await asyncio.gather(slack.send_event(message(in_dm["text"], channel="D0DIRECT1", ts=dm_ts)), slack.send_event(in_dm))
    await slack.idle()
    channels = sorted(c.body["channel"] for c in slack.fake.sent("chat.postMessage"))
    assert channels == ["C0GENERAL", "D0DIRECT1"]


async def test_bots_edits_joins_and_guidebot_itself_are_ignored(slack: SlackEnv) -> None:
    ignored = [
        message(QUESTION, bot_id="B0OTHER1", subtype="bot_message"),
        message(QUESTION, bot_id="B0OTHER2"),
        message(QUESTION, user=BOT_USER_ID, bot_id=BOT_ID),
        message("", subtype="message_changed", message={"text": QUESTION, "user": "U0MEMBER1"}),
        message("<@U0MEMBER1> has joined the channel", channel_type="channel", subtype="channel_join"),
        message(QUESTION, subtype="message_deleted"),
    ]
    for event in ignored:
        status, _ = await slack.send_event(event)
        assert status == 200
    await slack.idle()
    assert slack.fake.sent("chat.postMessage") == []


async def test_forged_unsigned_and_stale_requests_get_401_and_nothing_happens(slack: SlackEnv) -> None:
    body = json.dumps(event_callback(message(QUESTION)))
    forged = sign(body, secret="not-the-secret")
    assert (await slack.post(body, signed=False, headers=forged))[0] == 401
    assert (await slack.post(body, signed=False))[0] == 401
    assert (await slack.post(body, timestamp=int(time.time()) - 6 * 60))[0] == 401
    tampered = sign(body)
    assert (await slack.post(body.replace("VPMA", "CMO"), signed=False, headers=tampered))[0] == 401
    assert (await slack.post(b"\xff\xfe not utf-8", signed=False))[0] == 401
    await slack.idle()
    assert slack.fake.calls == [] or all(c.method == "auth.test" for c in slack.fake.calls)


async def test_malformed_and_unknown_payloads_get_a_4xx_never_a_500(slack: SlackEnv) -> None:
    cases: list[tuple[str | bytes, str]] = [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('{"type": "event_callback", "event": "a string"}', "application/json"),
        ('{"type": "event_callback", "event": {"type": "message", "user": ["U1"]}}', "application/json"),
        ('{"type": 7}', "application/json"),
        ('{"type": "block_actions", "actions": "nope"}', "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("payload=%5B%5D", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00 binary", "application/octet-stream"),
        ('{"type": "something_new", "x": 1}', "application/json"),
        (json.dumps(event_callback({"type": "reaction_added", "user": "U1", "item": {}})), "application/json"),
    ]
    for body, content_type in cases:
        status, text = await slack.post(body, content_type=content_type)
        assert 400 <= status < 500, (body, status, text)
    status, text = await slack.post(json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}))
    assert status == 200 and "c-123" in text
    await slack.idle()
    assert slack.fake.sent("chat.postMessage") == []


async def test_an_injected_channel_ping_is_escaped_in_everything_posted(slack: SlackEnv) -> None:
    url = await slack.command("role &lt;!channel&gt; boss &lt;@U0BOSS1&gt;")  # as Slack sends "<!channel>" typed by hand
    await slack.idle()
    [reply] = slack.fake.responses(url)
    payload = check_message({"text": reply.body["text"], "blocks": reply.body["blocks"]})
    assert "&lt;!channel&gt;" in json.dumps(payload), "the typed name is shown, escaped"


async def test_slack_markup_is_read_by_the_adapter_before_the_core_sees_the_question(slack: SlackEnv) -> None:
    """The core cleans no Slack markup: mentions, DMs and /guide hand it plain words, links as their labels."""
    marked = "<!channel> what does a <https://example.org/vpma|VPMA> do? cc <@U0ANN0001|ann> in <#C0GENERAL|general>"
    await slack.send_event(mention(marked, channel="C0MARKUP1"))
    await slack.send_event(message(marked, channel="D0MARKUP1"))
    url = await slack.command(marked)
    await slack.fake.wait_sent("chat.postMessage", count=2)
    await slack.fake.wait_for(lambda: slack.fake.responses(url), what="the /guide reply")
    await slack.idle()
    logged = [r.question for r in slack.guidebot.store.questions()]
    assert len(logged) == 3
    for question in logged:
        assert question == "what does a VPMA do? cc @ann in #general", question


async def test_a_message_that_is_only_the_bots_mention_gets_the_hint(slack: SlackEnv) -> None:
    await slack.send_event(message(f"<@{BOT_USER_ID}>", channel="D0ONLYBOT"))
    [post] = await slack.fake.wait_sent("chat.postMessage")
    assert "help" in post.body["text"] and "<@" not in post.body["text"]


async def test_acknowledges_at_once_even_when_slack_is_slow_to_take_the_answer(slack: SlackEnv) -> None:
    slack.fake.delays["chat.postMessage"] = 3.5
    started = time.monotonic()
    status, _ = await slack.send_event(mention(QUESTION))
    assert status == 200 and time.monotonic() - started < 3.0
    [post] = await slack.fake.wait_sent("chat.postMessage", timeout=20)
    assert answered(post)


# ---------------------------------------------------------------- delivery


async def test_a_rate_limited_post_is_retried_after_retry_after_and_delivered_once(slack: SlackEnv) -> None:
    slack.fake.fail("chat.postMessage", status=429, retry_after=1)
    await slack.send_event(mention(QUESTION))
    await slack.fake.wait_sent("chat.postMessage")
    await slack.idle()
    attempts = slack.fake.attempts("chat.postMessage")
    assert [a.ok for a in attempts] == [False, True]
    assert attempts[1].at - attempts[0].at >= 0.9, "Retry-After: 1 was honoured"
    assert len(slack.fake.sent("chat.postMessage")) == 1


async def test_a_post_that_keeps_failing_is_tried_again_after_its_lease_then_logged_with_the_event_id(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack = await start_env(slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1), embedder, fake)
    try:
        fake.fail("chat.postMessage", status=500, times=None)
        fake.fail("chat.postEphemeral", status=500, times=None)
        caplog.set_level(logging.INFO)
        secret_question = "What does a VPMA do in a children's hospital merger?"
        await slack.send_event(mention(secret_question), event_id="EvFAILS0001")
        recoveries = lambda: [r for r in caplog.records if "left unanswered by a stopped replica" in r.getMessage()]  # noqa: E731
        async with asyncio.timeout(60):  # the first try leaves its lease to lapse, so does each recovery's but the last
            while len(recoveries()) < RECOVERY_ATTEMPTS:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.2)
        await slack.idle(timeout=30)
    finally:
        await stop_env(slack)
    retried = [r for r in caplog.records if "answered again once its lease lapses" in r.getMessage()]
    assert len(retried) == RECOVERY_ATTEMPTS and {r.event_id for r in retried} == {"EvFAILS0001"}
    assert len(recoveries()) == RECOVERY_ATTEMPTS, "given up after the last recovery, not tried for ever"
    assert len(fake.attempts("chat.postMessage")) >= 4, "server errors were retried, then the answer tried again"
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR and getattr(r, "event_id", None) == "EvFAILS0001"]
    assert failures, "the lost answer is logged with its event id"
    assert any("posting the answer" in r.getMessage() for r in failures)
    # The lease keeps the member's hash, not their Slack id: a recovered question cannot be answered privately.
    assert not fake.attempts("chat.postEphemeral")
    for record in caplog.records:
        assert "children's hospital" not in record.getMessage() + json.dumps(record.__dict__, default=str)


async def test_an_answer_slack_would_not_take_even_on_recovery_is_delivered_by_a_later_recovery(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    """A DM's member cannot be told of a lost answer (the lease keeps their hash, not their Slack id), so one
    more spell of server errors during a recovery must not be the end of it."""
    slack = await start_env(slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1), embedder, fake)
    try:
        fake.fail("chat.postMessage", status=500, times=6)  # the client's three calls, live and at the first recovery
        await slack.send_event(message(QUESTION), event_id="EvLATER0002")
        [post] = await fake.wait_sent("chat.postMessage", timeout=30)
        await slack.idle(timeout=30)
    finally:
        await stop_env(slack)
    assert answered(post) and post.body["channel"] == "D0DIRECT1"
    assert len(fake.attempts("chat.postMessage")) == 7
    assert not fake.attempts("chat.postEphemeral")


async def test_an_answer_slack_could_not_take_is_delivered_by_the_retry_after_its_lease(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    slack = await start_env(slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1), embedder, fake)
    try:
        fake.fail("chat.postMessage", status=503, times=4)  # more than the client's own retries
        await slack.send_event(mention(QUESTION), event_id="EvLATER0001")
        [post] = await fake.wait_sent("chat.postMessage")
        await slack.idle(timeout=30)
    finally:
        await stop_env(slack)
    assert answered(post)
    assert FAILURE_TEXT not in str(post.body)


async def test_blocks_slack_refuses_are_sent_again_in_a_simpler_rendering(slack: SlackEnv) -> None:
    slack.fake.refuse_blocks_with = '"citation"'
    await slack.send_event(mention(QUESTION))
    [post] = await slack.fake.wait_sent("chat.postMessage")
    assert answered(post)
    kinds = {e["type"] for b in quotes(post) for q in b["elements"] for e in q["elements"]}
    assert "link" in kinds and "citation" not in kinds
    assert [a.ok for a in slack.fake.attempts("chat.postMessage")] == [False, True]


# ---------------------------------------------------------------- the assistant surface


async def test_assistant_thread_started_sets_suggested_prompts_from_the_index(slack: SlackEnv) -> None:
    event = {"type": "assistant_thread_started", "assistant_thread": {"user_id": "U0MEMBER1", "context": {}, "channel_id": "D0DIRECT1", "thread_ts": "1712000001.000100"}, "event_ts": "1"}
    await slack.send_event(event)
    [call] = await slack.fake.wait_sent("assistant.threads.setSuggestedPrompts")
    expected = suggested_prompts(slack.guidebot.engines.index, limit=4)
    assert len(expected) == 4
    assert call.body["channel_id"] == "D0DIRECT1" and call.body["thread_ts"] == "1712000001.000100"
    assert [p["message"] for p in call.body["prompts"]] == expected
    assert any("VPMA" in p or "Vice President" in p for p in expected)


async def test_a_question_in_an_assistant_thread_shows_a_status_until_the_answer(slack: SlackEnv) -> None:
    thread = "1712000002.000100"
    await slack.send_event(message(QUESTION, channel="D0DIRECT1", thread_ts=thread))
    [post] = await slack.fake.wait_sent("chat.postMessage")
    [status] = slack.fake.sent("assistant.threads.setStatus")
    assert status.body == {"channel_id": "D0DIRECT1", "thread_ts": thread, "status": STATUS_SEARCHING}
    assert status.at <= post.at and post.body["thread_ts"] == thread, "the answer, in the thread, clears the status"


# ---------------------------------------------------------------- configuration


async def test_without_a_token_and_secret_the_endpoint_answers_503_and_nothing_else_breaks(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack) -> None:
    settings = slack_settings(guide_settings, tmp_path, fake, slack_bot_token=None, slack_signing_secret=None)
    env = await start_env(settings, embedder, fake)
    try:
        status, text = await env.post(json.dumps(event_callback(mention(QUESTION))))
        assert status == 503
        assert json.loads(text)["error"] == "slack_not_configured" and "SLACK_BOT_TOKEN" in json.loads(text)["message"]
    finally:
        await stop_env(env)


async def test_socket_mode_answers_events_without_the_http_endpoint(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack) -> None:
    settings = slack_settings(guide_settings, tmp_path, fake, slack_app_token="xapp-test", slack_signing_secret=None)
    env = await start_env(settings, embedder, fake)
    try:
        assert (await env.post(json.dumps(event_callback(mention(QUESTION)))))[0] == 503, "no secret: no HTTP events"
        event = mention(QUESTION, channel="C0SOCKET1")
        ack = await fake.send_envelope(event_callback(event))
        assert "envelope_id" in ack
        [post] = await fake.wait_sent("chat.postMessage")
        assert post.body["channel"] == "C0SOCKET1" and answered(post)
        assert fake.sent("apps.connections.open")
    finally:
        await stop_env(env)


async def test_an_answer_a_stopped_replica_left_undelivered_is_delivered_by_the_next(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    settings = slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1)
    first = await start_env(settings, embedder, fake)
    fake.delays["chat.postMessage"] = 2.0
    event = mention(QUESTION, channel="C0GENERAL")
    await first.send_event(event, event_id="EvCRASH0001")
    await fake.wait_for(lambda: "chat.postMessage" in fake.arrived, what="the answer on its way")
    await first.adapter.background.close(grace=0)  # the replica dies with the answer in flight
    await stop_env(first, close_fake=False)
    fake.delays.clear()
    await asyncio.sleep(1.2)  # its lease lapses

    second = await start_env(settings, embedder, fake)
    try:
        [post] = await fake.wait_sent("chat.postMessage")  # found at start-up
        assert post.body["channel"] == "C0GENERAL" and post.body["thread_ts"] == event["ts"] and answered(post)
        await second.idle()
        assert await second.adapter.listeners.recover() == 0
        assert second.guidebot.store.unfinished("slack:") == []
        status, _ = await second.send_event(event, event_id="EvCRASH0001", retry=1)
        await second.idle()
        assert status == 200 and len(fake.sent("chat.postMessage")) == 1
    finally:
        await stop_env(second, close_fake=False)
