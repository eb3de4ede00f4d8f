"""Slack and kill -9: what guidebot acknowledged is in the database at the moment of the ack.

Slack never sends an event again once it had a 200, so a question must be
leased (with what is needed to answer it) before the ack, and a feedback click
stored before its ack. These tests stop the adapter's background work right
after the ack, the way SIGKILL would, and look at what is left.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from guidebot_testing.slack import FakeSlack, SlackEnv, block_actions_form, mention, message, slack_settings, start_env, stop_env

QUESTION = "What does a VPMA do?"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.close()


def lease_key(event: dict[str, Any]) -> str:
    return f"slack:message:{event['channel']}:{event['ts']}"


async def test_a_question_is_leased_with_its_work_before_slack_gets_the_ack(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    settings = slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1)
    first = await start_env(settings, embedder, fake)
    event = mention(QUESTION, channel="C0GENERAL")
    status, _ = await first.send_event(event, event_id="EvKILLED0001")
    assert status == 200
    assert first.guidebot.store.claim_work(lease_key(event), lease_seconds=1) == "busy", "leased by the time of the ack"
    await first.adapter.background.close(grace=0)  # killed right after the ack, before answering
    await stop_env(first, close_fake=False)
    assert fake.sent("chat.postMessage") == []

    await asyncio.sleep(1.2)  # the dead replica's lease lapses
    second = await start_env(settings, embedder, fake)
    try:
        [post] = await fake.wait_sent("chat.postMessage")
        assert post.body["channel"] == "C0GENERAL" and post.body["thread_ts"] == event["ts"]
        await second.idle()
        status, _ = await second.send_event(event, event_id="EvKILLED0001", retry=1)
        await second.idle()
        assert status == 200 and len(fake.sent("chat.postMessage")) == 1
    finally:
        await stop_env(second)


async def test_a_direct_message_is_leased_before_the_ack_too(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    env = await start_env(slack_settings(guide_settings, tmp_path, fake), embedder, fake)
    try:
        event = message(QUESTION, channel="D0DIRECT9")
        status, _ = await env.send_event(event)
        assert status == 200
        assert env.guidebot.store.claim_work(lease_key(event), lease_seconds=60) in ("busy", "done")
        await env.idle()
        assert len(fake.sent("chat.postMessage")) == 1
    finally:
        await stop_env(env)


async def test_an_acknowledged_feedback_click_is_already_stored(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    env = await start_env(slack_settings(guide_settings, tmp_path, fake), embedder, fake)
    try:
        await env.send_event(mention(QUESTION, channel="C0GENERAL"))
        [post] = await fake.wait_sent("chat.postMessage")
        await env.idle()
        value = next(v for v in _values(post.body["blocks"]) if v.startswith("down:"))
        fake.delays["chat.update"] = 5.0  # the thank-you is slow; the vote must not wait for it
        body = block_actions_form(
            {"action_id": "guide_feedback_down", "type": "button", "value": value},
            fake.response_url(),
            user="U0VOTER01",
            message={"ts": "1712000000.000001", "text": post.body.get("text", ""), "blocks": post.body["blocks"]},
        )
        status, _ = await env.post(body, content_type="application/x-www-form-urlencoded")
        assert status == 200
        (vote,) = env.guidebot.store.feedback_for(value.split(":", 1)[1])
        assert vote.value == "down" and vote.platform == "slack"
        await env.adapter.background.close(grace=0)
    finally:
        await stop_env(env)


async def test_the_lease_follows_the_work_lease_setting(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    env = await start_env(slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=7), embedder, fake)
    try:
        assert env.adapter.listeners.lease_seconds == 7
    finally:
        await stop_env(env)


def _values(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["value"]] if isinstance(node.get("value"), str) else []
        return found + [v for child in node.values() for v in _values(child)]
    if isinstance(node, list):
        return [v for child in node for v in _values(child)]
    return []



async def test_an_answer_that_reached_slack_just_before_its_replica_died_is_not_posted_again(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1)
    first = await start_env(settings, embedder, fake)

    async def died_before_recording(*_args: Any) -> None:  # killed between Slack's 200 and the database commit
        return None

    async def recovers_nothing(*_args: Any) -> int:  # nor, dead, does it recover anything
        return 0

    monkeypatch.setattr(first.guidebot.inbox, "_complete", died_before_recording)
    # On a loaded machine the first replica's own recovery loop had taken its lapsed leases before it stopped, read
    # back and left them leased again, so the second found nothing to recover yet.
    monkeypatch.setattr(first.guidebot.inbox, "recover_once", recovers_nothing)
    thread_event = mention(QUESTION, channel="C0GENERAL")
    dm_event = message(QUESTION, channel="D0DIRECT7")
    await first.send_event(thread_event)
    await first.send_event(dm_event)
    await fake.wait_sent("chat.postMessage", count=2)
    await first.idle()
    await stop_env(first, close_fake=False)
    await asyncio.sleep(1.2)  # the leases lapse, still unfinished

    second = await start_env(settings, embedder, fake)
    try:
        await fake.wait_for(lambda: len(fake.sent("conversations.replies")) + len(fake.sent("conversations.history")) >= 2, what="the read-back")
        await second.idle()
        assert len(fake.sent("chat.postMessage")) == 2, "each answer once"
        assert second.guidebot.store.unfinished("slack:") == []
        for event in (thread_event, dm_event):
            assert second.guidebot.store.claim_work(lease_key(event), lease_seconds=1) == "done"
    finally:
        await stop_env(second)


async def test_a_lease_whose_answer_never_reached_slack_is_answered_after_the_read_back(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    settings = slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1)
    first = await start_env(settings, embedder, fake)
    fake.delays["chat.postMessage"] = 3.0
    event = mention(QUESTION, channel="C0GENERAL")
    await first.send_event(event)
    await fake.wait_for(lambda: "chat.postMessage" in fake.arrived, what="the answer on its way")
    await first.adapter.background.close(grace=0)  # dies with the post in flight: Slack never takes it
    await stop_env(first, close_fake=False)
    fake.delays.clear()
    await asyncio.sleep(1.2)

    second = await start_env(settings, embedder, fake)
    try:
        [post] = await fake.wait_sent("chat.postMessage")
        assert fake.sent("conversations.replies"), "it looked first"
        assert post.body["thread_ts"] == event["ts"]
        assert post.body["metadata"]["event_payload"]["lease"] == lease_key(event)
    finally:
        await stop_env(second)


async def test_a_lease_holds_the_member_hashed_and_the_text_cut_and_redacted_and_recovery_still_answers(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path, fake: FakeSlack
) -> None:
    settings = slack_settings(guide_settings, tmp_path, fake, work_lease_seconds=1, max_question_chars=200)
    first = await start_env(settings, embedder, fake)
    event = mention("MRN 55512345: what does a VPMA do? " + "and more " * 100, user="U0SECRET01", channel="C0GENERAL")
    status, _ = await first.send_event(event, event_id="EvHASHED0001")
    assert status == 200
    await first.adapter.background.close(grace=0)  # killed right after the ack
    await stop_env(first, close_fake=False)
    await asyncio.sleep(1.2)

    second = await start_env(settings, embedder, fake)
    try:
        lapsed = next(item for item in second.guidebot.store.unfinished("slack:") if item.key.startswith("slack:message:"))
        assert "U0SECRET01" not in lapsed.work and "55512345" not in lapsed.work
        assert len(json.loads(lapsed.work)["question"]["text"]) <= 200
        [post] = await fake.wait_sent("chat.postMessage")
        assert post.body["thread_ts"] == event["ts"]
        await second.idle()
        logged = second.guidebot.store.questions()  # the recovered answer's line (and the killed replica's, if it got that far)
        assert logged and {q.user_hash for q in logged} == {second.guidebot.store.member_hash("slack", "U0SECRET01")}
    finally:
        await stop_env(second)
