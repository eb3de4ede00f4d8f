"""`/guide` and the buttons, end to end: slash commands, "Share in channel" and feedback clicks.

Replies to `/guide` go to the command's `response_url` (the fake records
them), only the asker sees them, and they carry a "Share in channel" button
that posts the same reply publicly. Feedback clicks are stored once per member
and answer, and acknowledged on the message itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import render
from guidebot_testing.slack import FakeSlack, SlackEnv, mention, slack_settings, start_env, stop_env
from tests.test_commands import TYPED_COMMANDS, TYPED_QUESTION, UNKNOWN_NAME
from tests.test_slack_render import check_message

SUBCOMMANDS = [
    ("role vpma", "Vice President of Medical Affairs"),
    ("credential cpe", "Certified Physician Executive"),
    ("path", None),
    ("roles", "Medical Director"),
    ("help", "role"),
]


@pytest.fixture
async def slack(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path) -> AsyncIterator[SlackEnv]:
    fake = await FakeSlack().start()
    env = await start_env(slack_settings(guide_settings, tmp_path, fake), embedder, fake)
    yield env
    await stop_env(env)


def reply_of(env: SlackEnv, url: str) -> dict[str, Any]:
    [call] = env.fake.responses(url)
    return call.body


def share_button(body: dict[str, Any]) -> dict[str, Any]:
    [button] = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == render.SHARE_ACTION]
    return button


def without_share(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b.get("block_id") != "guide_share"]


@pytest.mark.parametrize(("text", "expected"), SUBCOMMANDS)
async def test_each_guide_subcommand_replies_privately_with_its_summary(slack: SlackEnv, text: str, expected: str | None) -> None:
    url = await slack.command(text)
    await slack.idle()
    body = reply_of(slack, url)
    assert body["response_type"] == "ephemeral" and body["replace_original"] is False
    check_message({"text": body["text"], "blocks": body["blocks"]})
    assert body["blocks"][0]["type"] == "header"
    if expected:
        assert expected in json.dumps(body["blocks"])
    if text != "help":
        share_button(body)


@pytest.mark.parametrize(("typed", "title"), TYPED_COMMANDS)
async def test_guide_reads_names_as_members_type_them(slack: SlackEnv, typed: str, title: str) -> None:
    url = await slack.command(typed)
    await slack.idle()
    body = reply_of(slack, url)
    check_message({"text": body["text"], "blocks": body["blocks"]})
    assert body["blocks"][0]["type"] == "header" and body["blocks"][0]["text"]["text"] == title


async def test_guide_with_an_unknown_name_suggests_the_closest_names_first(slack: SlackEnv) -> None:
    typed, title, closest = UNKNOWN_NAME
    url = await slack.command(typed)
    await slack.idle()
    body = reply_of(slack, url)
    assert body["blocks"][0]["text"]["text"] == title
    assert f"Did you mean {closest}" in json.dumps(body["blocks"], ensure_ascii=False)


async def test_guide_answers_the_question_the_cli_command_answers(slack: SlackEnv) -> None:
    url = await slack.command(TYPED_QUESTION)
    await slack.idle()
    body = reply_of(slack, url)
    assert any(b["type"] == "rich_text" for b in body["blocks"]) and "Vice President of Medical Affairs" in json.dumps(body["blocks"])


async def test_guide_with_a_question_replies_privately_with_quoted_passages(slack: SlackEnv) -> None:
    url = await slack.command("What does a Chief Quality Officer do?")
    await slack.idle()
    body = reply_of(slack, url)
    assert body["response_type"] == "ephemeral"
    check_message({"text": body["text"], "blocks": body["blocks"]})
    assert any(b["type"] == "rich_text" for b in body["blocks"]) and "Chief Quality Officer" in json.dumps(body["blocks"])
    assert any(b["type"] == "context_actions" for b in body["blocks"])


async def test_guide_alone_shows_the_help(slack: SlackEnv) -> None:
    url = await slack.command("")
    await slack.idle()
    body = reply_of(slack, url)
    assert body["blocks"][0]["type"] == "header" and "role" in json.dumps(body["blocks"])


async def test_share_in_channel_posts_the_same_reply_publicly_and_removes_the_private_one(slack: SlackEnv) -> None:
    for text in ("role vpma", "What does a VPMA do?"):
        url = await slack.command(text)
        await slack.idle()
        private = reply_of(slack, url)
        button = share_button(private)
        share_url = await slack.click({"type": "button", "action_id": button["action_id"], "block_id": "guide_share", "value": button["value"]}, ephemeral=True)
        await slack.idle()
        public, delete = slack.fake.responses(share_url)
        assert public.body["response_type"] == "in_channel"
        check_message({"text": public.body["text"], "blocks": public.body["blocks"]})
        assert public.body["blocks"] == without_share(private["blocks"]), "the same reply, without the share button"
        assert delete.body == {"delete_original": True}
    # The core logs questions (not commands); sharing does not log the question a second time.
    assert [q.question for q in slack.guidebot.store.questions()] == ["What does a VPMA do?"]


async def test_without_a_public_url_show_the_passages_answers_privately_with_each_passage_in_full(
    guide_settings: Any, guide_index: Any, embedder: Any, tmp_path: Path
) -> None:
    fake = await FakeSlack().start()
    slack = await start_env(slack_settings(guide_settings, tmp_path, fake, public_url=None), embedder, fake)
    try:
        await slack.send_event(mention("What does a VPMA do?"))
        [post] = await fake.wait_sent("chat.postMessage")
        check_message({"text": post.body["text"], "blocks": post.body["blocks"]})
        [button] = [e for b in post.body["blocks"] if b.get("block_id") == "guide_passages" for e in b["elements"]]
        url = await slack.click({"type": "button", "action_id": button["action_id"], "block_id": "guide_passages", "value": button["value"]})
        await slack.idle()
        [reply] = fake.responses(url)
        answer = slack.guidebot.engines.engine().answer("What does a VPMA do?")
    finally:
        await stop_env(slack)
    assert reply.body["response_type"] == "ephemeral" and reply.body["replace_original"] is False
    check_message({"text": reply.body["text"], "blocks": reply.body["blocks"]})
    quoted = ["".join(e["text"] for e in b["elements"][0]["elements"] if e["type"] == "text") for b in reply.body["blocks"] if b["block_id"].startswith("guide_quote_")]
    assert len(quoted) == len(answer.passages) and all(q.startswith(p.text) for q, p in zip(quoted, answer.passages))
    assert post.body["text"].startswith(answer.lead[0].text[:60]), "the message itself leads with the answer"
    assert [q.question for q in slack.guidebot.store.questions()] == ["What does a VPMA do?"], "the click is not a second question"


async def test_a_feedback_click_is_stored_once_per_member_and_acknowledged_on_the_message(slack: SlackEnv) -> None:
    await slack.send_event(mention("What does a VPMA do?"))
    [post] = await slack.fake.wait_sent("chat.postMessage")
    [feedback] = [b for b in post.body["blocks"] if b["type"] == "context_actions"]
    buttons = feedback["elements"][0]
    answer_id = buttons["positive_button"]["value"].split(":", 1)[1]
    message = {"type": "message", "ts": "1700000000.000001", "text": post.body["text"], "blocks": post.body["blocks"], "bot_id": "B1"}

    def click(value: str, user: str) -> dict[str, Any]:
        return {"type": "feedback_buttons", "action_id": buttons["action_id"], "block_id": feedback["block_id"], "value": value, "text": {"type": "plain_text", "text": "👍"}}

    await slack.click(click(buttons["positive_button"]["value"], "U1"), message=message, user="U0MEMBER1")
    await slack.idle()
    [update] = slack.fake.sent("chat.update")
    assert update.body["channel"] == "C0GENERAL" and update.body["ts"] == message["ts"]
    check_message({"text": update.body["text"], "blocks": update.body["blocks"]})
    [note] = [b for b in update.body["blocks"] if b.get("block_id") == render.FEEDBACK_NOTE_BLOCK]
    assert "Thanks" in note["elements"][0]["text"]
    assert any(b["type"] == "context_actions" for b in update.body["blocks"]), "the buttons stay"

    await slack.click(click(buttons["negative_button"]["value"], "U1"), message=message, user="U0MEMBER1")  # changes their mind
    await slack.click(click(buttons["positive_button"]["value"], "U2"), message=message, user="U0MEMBER2")
    await slack.idle()
    votes = {(f.user_hash, f.value) for f in slack.guidebot.store.feedback_for(answer_id)}
    store = slack.guidebot.store
    assert votes == {(store.member_hash("slack", "U0MEMBER1"), "down"), (store.member_hash("slack", "U0MEMBER2"), "up")}
    assert len(slack.fake.sent("chat.update")) == 3


async def test_feedback_on_a_private_reply_is_acknowledged_privately(slack: SlackEnv) -> None:
    url = await slack.command("What does a VPMA do?")
    await slack.idle()
    [buttons] = [e for b in reply_of(slack, url)["blocks"] if b["type"] == "context_actions" for e in b["elements"]]
    click_url = await slack.click({"type": "feedback_buttons", "action_id": buttons["action_id"], "block_id": "guide_feedback", "value": buttons["negative_button"]["value"]}, ephemeral=True)
    await slack.idle()
    [note] = slack.fake.responses(click_url)
    assert note.body["response_type"] == "ephemeral" and "noted" in note.body["text"]
    answer_id = buttons["negative_button"]["value"].split(":", 1)[1]
    assert [f.value for f in slack.guidebot.store.feedback_for(answer_id)] == ["down"]


async def test_plain_feedback_buttons_of_the_basic_rendering_work_the_same(slack: SlackEnv) -> None:
    await slack.send_event(mention("What does a VPMA do?"))
    [post] = await slack.fake.wait_sent("chat.postMessage")
    answer_id = next(b for b in post.body["blocks"] if b["type"] == "context_actions")["elements"][0]["positive_button"]["value"].split(":", 1)[1]
    await slack.click({"type": "button", "action_id": "guide_feedback_up", "block_id": "guide_feedback", "value": f"up:{answer_id}"}, ephemeral=True)
    await slack.click({"type": "button", "action_id": "guide_feedback_up", "block_id": "guide_feedback", "value": "up:"}, ephemeral=True)  # malformed: ignored
    await slack.idle()
    assert [f.value for f in slack.guidebot.store.feedback_for(answer_id)] == ["up"]
