"""Teams end to end: activities posted to the real botbuilder SDK, replies recorded by a local connector.

Each test builds the core on the indexed guide with its own SQLite store, runs
the aiohttp app with the Teams adapter on 127.0.0.1 and reads what the bot sent
to the connector, as Teams would receive it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.teams import mount
from adapters.teams.citations import ABSTRACT_MAX, KEYWORD_MAX, KEYWORDS_MAX, NAME_MAX
from bot.commands import HELP_EXAMPLES
from bot.metrics import REGISTRY
from bot.service import UNATTRIBUTED_PREFIX
from bot.settings import Settings
from bot.wiring import build_guidebot
from guidebot_testing.teams import BOT_ID, FakeConnector, TeamsConfig, TeamsHarness, next_id, start_harness, teams_config
from index.embedder import Embedder
from index.guide_index import GuideIndex
from knowledge.entities import Entities
from tests.conftest import VPMA_SENTENCES
from tests.test_commands import TYPED_COMMANDS, TYPED_QUESTION, UNKNOWN_NAME

QUESTION = "What does a VPMA do?"
OFF_TOPIC = "What is the best recipe for banana bread?"
_AT = re.compile(r"<\s*/?\s*at\b", re.IGNORECASE)


def teams_settings(guide_settings: Settings, tmp_path: Path, **extra: Any) -> TeamsConfig:
    config = teams_config(guide_settings, database_url=f"sqlite:///{tmp_path}/t.sqlite3", public_url="https://bot.example.org", **extra)
    assert config.settings.resolved_database_url.endswith("t.sqlite3")
    return config


@pytest.fixture()
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.close()


async def _harness(config: TeamsConfig, embedder: Embedder, connector: FakeConnector) -> TeamsHarness:
    guidebot = build_guidebot(config.settings, embedder)
    app = web.Application()
    mount(app, guidebot, config.settings, config.teams)
    return await start_harness(app, connector, guidebot)


@pytest.fixture()
async def teams(
    guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, connector: FakeConnector, tmp_path: Path
) -> AsyncIterator[TeamsHarness]:
    harness = await _harness(teams_settings(guide_settings, tmp_path), embedder, connector)
    yield harness
    await harness.client.close()
    harness.guidebot.store.close()


@pytest.fixture()
async def secured(
    guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, connector: FakeConnector, tmp_path: Path
) -> AsyncIterator[TeamsHarness]:
    settings = teams_settings(
        guide_settings, tmp_path, microsoft_app_id="6f1b2c3d-0000-4000-8000-000000000001", microsoft_app_password="not-a-real-secret"
    )
    harness = await _harness(settings, embedder, connector)
    yield harness
    await harness.client.close()
    harness.guidebot.store.close()


def citation_of(sent: dict[str, Any]) -> dict[str, Any]:
    (entity,) = [e for e in sent.get("entities") or () if e.get("type") == "https://schema.org/Message"]
    return entity


def entity_names(index: GuideIndex, kind: str) -> list[str]:
    return [e.acronym or e.name for e in Entities.from_json(index.entities).of_kind(kind)]


# --- answers -------------------------------------------------------------------------------


async def test_personal_question_gets_quoted_passages_with_teams_citations_and_feedback_buttons(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    status, _ = await teams.post(activity)

    assert status == 200
    (sent,) = teams.connector.sent
    assert sent.is_reply and sent.activity_id == activity["id"] and sent.conversation_id == "a:personal-chat-1"
    body = sent.body
    assert body["textFormat"] == "markdown"
    assert "VPMA" in body["text"] and not body["text"].startswith(">"), "the lead, not a quote block, opens the message"
    assert body["text"].startswith(VPMA_SENTENCES) and body["summary"].startswith(VPMA_SENTENCES), "a sentence saying what a VPMA does leads, and previews the chat"
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", body["text"])}
    entity = citation_of(body)
    assert entity["@type"] == "Message" and entity["@context"] == "https://schema.org" and entity["@id"] == ""
    assert "additionalType" not in entity  # verbatim quotes: no "AI generated" label
    assert {c["position"] for c in entity["citation"]} == markers and markers
    for claim in entity["citation"]:
        appearance = claim["appearance"]
        assert claim["@type"] == "Claim" and appearance["@type"] == "DigitalDocument"
        assert 0 < len(appearance["name"]) <= NAME_MAX and len(appearance["abstract"]) <= ABSTRACT_MAX
        assert len(appearance["keywords"]) <= KEYWORDS_MAX and all(len(k) <= KEYWORD_MAX for k in appearance["keywords"])
        assert appearance["url"].startswith("https://bot.example.org/docs/")
        assert appearance["encodingFormat"] == "application/vnd.microsoft.card.adaptive" and '"AdaptiveCard"' in appearance["text"]
    assert body["channelData"]["feedbackLoopEnabled"] is True and "feedbackLoop" not in body["channelData"]
    answer_id = body["channelData"]["guidebot"]["answerId"]
    (logged,) = await asyncio.to_thread(teams.guidebot.store.questions)
    assert logged.answer_id == answer_id and logged.platform == "teams" and logged.answered


async def test_channel_mention_is_removed_and_the_answer_goes_into_the_same_reply_chain(teams: TeamsHarness) -> None:
    activity = teams.channel_mention(QUESTION)
    status, _ = await teams.post(activity)

    assert status == 200
    (sent,) = teams.connector.sent
    assert sent.conversation_id == activity["conversation"]["id"]
    assert sent.is_reply and sent.activity_id == activity["id"]
    (logged,) = await asyncio.to_thread(teams.guidebot.store.questions)
    assert logged.question == QUESTION  # the mention is gone before the core sees the text
    assert citation_of(sent.body)["citation"]


async def test_a_malformed_mention_entity_still_gets_an_answer(teams: TeamsHarness) -> None:
    activity = teams.message("<at>guide(bot</at> " + QUESTION, entities=[{"type": "mention", "text": "<at>guide(bot</at>"}])
    status, _ = await teams.post(activity)

    assert status == 200
    (logged,) = await asyncio.to_thread(teams.guidebot.store.questions)
    assert logged.question == QUESTION


@pytest.mark.parametrize("kind", ["role", "credential", "path", "roles", "help"])
async def test_each_command_gets_an_adaptive_card(teams: TeamsHarness, guide_index: GuideIndex, kind: str) -> None:
    text = f"{kind} {entity_names(guide_index, kind)[0]}" if kind in ("role", "credential") else kind
    status, _ = await teams.post(teams.message(text))

    assert status == 200
    (sent,) = teams.connector.sent
    card = sent.card
    assert card is not None and card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["body"][0]["type"] == "RichTextBlock"
    assert [a["data"]["value"] for a in card["actions"]] == ["up", "down"]
    assert all(a["data"]["command"] == text for a in card["actions"])
    assert not _AT.search(str(card))


def card_text(card: dict[str, Any]) -> list[str]:
    """The card's text, block by block, as Teams shows it."""
    return ["".join(i["text"] for i in b["inlines"]) for b in card["body"] if b["type"] == "RichTextBlock"]


@pytest.mark.parametrize(("typed", "title"), TYPED_COMMANDS)
async def test_a_typed_command_reads_names_as_members_type_them(teams: TeamsHarness, typed: str, title: str) -> None:
    status, _ = await teams.post(teams.message(typed))

    assert status == 200
    (sent,) = teams.connector.sent
    assert sent.card is not None and card_text(sent.card)[0] == title


async def test_an_unknown_name_suggests_the_closest_names_first(teams: TeamsHarness) -> None:
    typed, title, closest = UNKNOWN_NAME
    await teams.post(teams.message(typed))
    (sent,) = teams.connector.sent
    shown = card_text(sent.card)
    assert shown[0] == title and shown[1].startswith(f"Did you mean {closest}")


async def test_a_typed_question_gets_the_answer_the_cli_command_gives(teams: TeamsHarness) -> None:
    await teams.post(teams.message(TYPED_QUESTION))
    (sent,) = teams.connector.sent
    assert "Vice President of Medical Affairs" in sent.body["text"] and citation_of(sent.body)["citation"]


async def test_an_off_topic_question_abstains_with_the_nearest_sections_and_the_help_command(teams: TeamsHarness) -> None:
    status, _ = await teams.post(teams.message(OFF_TOPIC))

    assert status == 200
    (sent,) = teams.connector.sent
    text = sent.body["text"]
    assert "won't guess" in text and "**help**" in text
    assert "entities" not in sent.body or not sent.body["entities"]
    expected = teams.guidebot.engines.engine().answer(OFF_TOPIC)
    assert expected.abstained
    if expected.suggestions:
        assert "Nearest sections of the guide" in text
    # Teams runs lines a single newline separates together: every line is a paragraph of its own.
    assert "\n" not in text.replace("\n\n", "")
    assert len([p for p in text.split("\n\n") if p.startswith("• ")]) == min(len(expected.suggestions), 5)
    assert sent.body["channelData"]["feedbackLoopEnabled"] is True


# --- feedback ------------------------------------------------------------------------------


async def test_teams_feedback_loop_invoke_is_stored_against_the_answer_and_answered_with_200(teams: TeamsHarness) -> None:
    await teams.post(teams.message(QUESTION))
    (answer,) = teams.connector.sent
    answer_id = answer.body["channelData"]["guidebot"]["answerId"]

    status, body = await teams.post(teams.feedback_invoke("like", reply_to=answer.id, text="Clear and useful"))

    assert (status, body) == (200, {})
    (stored,) = await asyncio.to_thread(teams.guidebot.store.feedback_for, answer_id)
    assert stored.value == "up" and stored.comment == "Clear and useful" and stored.platform == "teams"
    assert len(teams.connector.sent) == 1  # nothing posted in reply to feedback


def unattributed_votes(value: str) -> float:
    return REGISTRY.get_sample_value("guidebot_feedback_unattributed_total", {"platform": "teams", "value": value}) or 0.0


async def test_feedback_without_reply_to_id_is_stored_unattributed_not_under_the_latest_answer(teams: TeamsHarness) -> None:
    """Seen in the Agents Playground: the 👎 on an answer was filed under the member's later refusal."""
    await teams.post(teams.message(QUESTION))
    await teams.post(teams.message(OFF_TOPIC))
    answer_ids = [s.body["channelData"]["guidebot"]["answerId"] for s in teams.connector.sent]
    counted = unattributed_votes("down")

    invoke = teams.feedback_invoke("dislike", reply_to=None, text="Not what I asked")
    for _ in range(2):  # Teams sending the invoke again stores the vote once
        status, body = await teams.post(invoke)
        assert (status, body) == (200, {})

    for answer_id in answer_ids:
        assert await asyncio.to_thread(teams.guidebot.store.feedback_for, answer_id) == []
    (stored,) = await asyncio.to_thread(teams.guidebot.store.feedback)
    assert stored.answer_id.startswith(UNATTRIBUTED_PREFIX) and stored.answer_id not in answer_ids
    assert (stored.value, stored.comment, stored.platform) == ("down", "Not what I asked", "teams")
    assert unattributed_votes("down") >= counted + 1


async def test_feedback_without_reply_to_id_is_filed_by_the_answer_id_in_channel_data(teams: TeamsHarness) -> None:
    await teams.post(teams.message(QUESTION))
    await teams.post(teams.message(OFF_TOPIC))
    first, second = [s.body["channelData"] for s in teams.connector.sent]

    invoke = teams.feedback_invoke("like", reply_to=None)
    invoke["channelData"] = {**invoke["channelData"], **first}
    status, _ = await teams.post(invoke)

    assert status == 200
    (stored,) = await asyncio.to_thread(teams.guidebot.store.feedback_for, first["guidebot"]["answerId"])
    assert stored.value == "up"
    assert await asyncio.to_thread(teams.guidebot.store.feedback_for, second["guidebot"]["answerId"]) == []


async def test_an_answer_id_in_channel_data_that_was_never_given_is_not_trusted(teams: TeamsHarness) -> None:
    invoke = teams.feedback_invoke("like", reply_to=None)
    invoke["channelData"] = {**invoke["channelData"], "guidebot": {"answerId": "0123456789abcdef"}}
    status, _ = await teams.post(invoke)

    assert status == 200
    assert await asyncio.to_thread(teams.guidebot.store.feedback_for, "0123456789abcdef") == []
    (stored,) = await asyncio.to_thread(teams.guidebot.store.feedback)
    assert stored.answer_id.startswith(UNATTRIBUTED_PREFIX)


async def test_a_feedback_invoke_with_an_unknown_reaction_is_refused(teams: TeamsHarness) -> None:
    status, _ = await teams.post(teams.feedback_invoke("love", reply_to="bot-msg-1"))
    assert status == 400


@pytest.mark.parametrize("name", ["composeExtension/query", "adaptiveCard/action", None])
async def test_an_invoke_the_bot_does_not_offer_gets_400(teams: TeamsHarness, name: str | None) -> None:
    status, body = await teams.post(teams.activity("invoke", name=name, value={"action": {"type": "Action.Execute"}}))
    assert status == 400 and body["error"]


async def test_thumbs_up_on_a_summary_card_is_stored_and_the_card_is_redrawn_with_thanks(teams: TeamsHarness) -> None:
    await teams.post(teams.message("path"))
    (card_message,) = teams.connector.sent
    up = card_message.card["actions"][0]
    assert up["data"]["value"] == "up"

    submit = teams.message("", value=up["data"], replyToId=card_message.id)
    del submit["text"]
    status, _ = await teams.post(submit)

    assert status == 200
    (stored,) = await asyncio.to_thread(teams.guidebot.store.feedback_for, up["data"]["feedbackId"])
    assert stored.value == "up"
    (update,) = teams.connector.updates()
    assert update.activity_id == card_message.id
    card = update.card
    assert card is not None and "actions" not in card
    assert "Thanks for the 👍" in str(card)
    assert len(teams.connector.messages()) == 1


# --- installation --------------------------------------------------------------------------


async def test_installing_the_bot_sends_one_welcome(teams: TeamsHarness) -> None:
    installed = teams.activity("installationUpdate", action="add")
    added = teams.activity("conversationUpdate", membersAdded=[{"id": BOT_ID}, {"id": "29:member-1"}])
    for activity in (installed, added):
        status, _ = await teams.post(activity)
        assert status == 200

    (welcome,) = teams.connector.sent
    card = welcome.card
    assert card is not None and card["version"] == "1.5"
    text = str(card)
    assert all(syntax in text for syntax, _ in HELP_EXAMPLES)


async def test_a_colleague_joining_a_team_gets_no_welcome(teams: TeamsHarness, caplog: pytest.LogCaptureFixture) -> None:
    joined = teams.activity("conversationUpdate", membersAdded=[{"id": "29:someone-else"}, {"id": "29:another", "name": "Dr B"}])
    status, _ = await teams.post(joined)
    assert status == 200 and teams.connector.sent == []
    assert _errors(caplog) == []


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_the_bot_added_with_colleagues_welcomes_once_and_looks_nobody_up(teams: TeamsHarness, caplog: pytest.LogCaptureFixture) -> None:
    """Found by the hostile-input fuzzing: botbuilder looked each colleague up on the connector, which
    answered with a page that was not JSON, and the turn failed with a traceback."""
    added = teams.activity("conversationUpdate", membersAdded=[{"id": "29:colleague-1"}, {"id": BOT_ID}, {"id": "29:colleague-2", "name": "Dr C"}])
    status, _ = await teams.post(added)

    assert status == 200
    (welcome,) = teams.connector.sent
    assert welcome.card is not None
    assert _errors(caplog) == []
    status, _ = await teams.post(teams.activity("installationUpdate", action="add"))
    assert status == 200 and len(teams.connector.sent) == 1


async def test_a_welcome_the_connector_refuses_is_logged_once_and_the_turn_completes(
    teams: TeamsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    teams.connector.fail_next(403)
    status, _ = await teams.post(teams.activity("installationUpdate", action="add"))
    assert status == 200 and teams.connector.sent == []

    status, _ = await teams.post(teams.activity("conversationUpdate", membersAdded=[{"id": BOT_ID}]))
    assert status == 200 and teams.connector.sent == []  # the install's second activity sends nothing more
    errors = _errors(caplog)
    assert len(errors) == 1 and "failed for good" in errors[0], errors
    assert not any(r.exc_info for r in caplog.records)


# --- reliability ---------------------------------------------------------------------------


async def test_an_activity_teams_sends_again_is_answered_once(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    first, second = await asyncio.gather(teams.post(activity), teams.post(activity))
    third = await teams.post(activity)

    assert first[0] == second[0] == third[0] == 200
    assert len(teams.connector.sent) == 1
    assert len(await asyncio.to_thread(teams.guidebot.store.questions)) == 1


async def test_a_503_then_success_is_delivered_once(teams: TeamsHarness) -> None:
    teams.connector.fail_next(503)
    status, _ = await teams.post(teams.message(QUESTION))

    assert status == 200
    assert teams.connector.attempts == 2
    assert len(teams.connector.sent) == 1


async def test_a_429_waits_for_retry_after_then_delivers(teams: TeamsHarness) -> None:
    teams.connector.fail_next(429, retry_after="1")
    started = time.monotonic()
    status, _ = await teams.post(teams.message(QUESTION))

    assert status == 200
    assert time.monotonic() - started >= 0.9
    assert teams.connector.attempts == 2 and len(teams.connector.sent) == 1


async def test_a_reply_that_cannot_be_delivered_is_logged_with_the_activity_id_not_the_text(
    guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, connector: FakeConnector, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from adapters.teams.app import ROUTE, TEAMS_ENDPOINT, TeamsEndpoint
    from adapters.teams.delivery import RetryPolicy

    config = teams_settings(guide_settings, tmp_path)
    guidebot = build_guidebot(config.settings, embedder)
    endpoint = TeamsEndpoint(guidebot, config.settings, config.teams, retry=RetryPolicy(attempts=3, base_delay=0.01))
    app = web.Application()
    app.router.add_post(ROUTE, endpoint.handle)
    app[TEAMS_ENDPOINT] = endpoint
    harness = await start_harness(app, connector, guidebot)
    try:
        connector.fail_next(503, times=3)
        activity = harness.message("What does a VPMA do? secret-marker-text")
        status, _ = await harness.post(activity)
    finally:
        await harness.client.close()
        guidebot.store.close()

    assert status == 200
    assert connector.attempts == 3 and connector.sent == []
    failures = [r for r in caplog.records if "failed for good" in r.getMessage()]
    assert failures and activity["id"] in failures[0].getMessage()
    assert "secret-marker-text" not in caplog.text


async def test_a_connector_4xx_is_not_retried(teams: TeamsHarness) -> None:
    teams.connector.fail_next(403)
    status, _ = await teams.post(teams.message(QUESTION))
    assert status == 200 and teams.connector.attempts == 1 and teams.connector.sent == []


# --- hostile requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda a: a.pop("type"),
        lambda a: a.update(type=7),
        lambda a: a.pop("serviceUrl"),
        lambda a: a.update(serviceUrl="file:///etc/passwd"),
        lambda a: a.update(conversation="a:1"),
        lambda a: a.update(conversation={}),
        lambda a: a.update(text=["not", "text"]),
        lambda a: a.update(entities="mention"),
        lambda a: a.update(entities=[{"text": "<at>x</at>"}]),
        lambda a: a.update({"from": "29:member-1"}),
        lambda a: a.pop("recipient"),
        lambda a: a.update(membersAdded=[{"name": "no id"}]),
        lambda a: a.update(channelData="tenant"),
        lambda a: a.update(timestamp="not a time"),
    ],
)
async def test_a_malformed_activity_gets_400(teams: TeamsHarness, mutate: Any) -> None:
    activity = teams.message(QUESTION)
    mutate(activity)
    status, body = await teams.post(activity)
    assert status == 400 and body["error"]
    assert teams.connector.sent == []


@pytest.mark.parametrize("body", [b"[]", b"\"message\"", b"{not json", b"\xff\xfe{}", b"null"])
async def test_a_body_that_is_not_an_activity_gets_400(teams: TeamsHarness, body: bytes) -> None:
    response = await teams.client.post("/api/messages", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_wrong_content_type_gets_415(teams: TeamsHarness, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await teams.client.post("/api/messages", data=b'{"type": "message"}', headers=headers, skip_auto_headers=["Content-Type"])
    assert response.status == 415


async def test_random_junk_never_gets_a_5xx(teams: TeamsHarness) -> None:
    import random

    rng = random.Random(8)
    values: list[Any] = [None, 0, -1, 3.5, True, "", "x" * 300, "<at>x</at>", [], {}, [{}], {"id": 5}, {"id": "x"}]
    keys = ["type", "id", "text", "name", "value", "entities", "attachments", "conversation", "from", "recipient",
            "channelData", "replyToId", "membersAdded", "action", "timestamp", "textFormat"]
    for _ in range(60):
        activity = teams.message(QUESTION) if rng.random() < 0.7 else {}
        for key in rng.sample(keys, rng.randint(1, 4)):
            activity[key] = rng.choice(values)
        if rng.random() < 0.3:
            activity["type"] = rng.choice(["message", "invoke", "conversationUpdate", "installationUpdate", "event", "typing"])
        status, _ = await teams.post(activity)
        assert status < 500, activity


# --- authentication ------------------------------------------------------------------------


async def test_with_an_app_id_a_request_without_a_token_gets_401(secured: TeamsHarness) -> None:
    status, _ = await secured.post(secured.message(QUESTION))
    assert status == 401 and secured.connector.sent == []


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        # A well-formed token signed by us, claiming to come from the Bot Framework.
        "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImZvcmdlZCIsInR5cCI6IkpXVCJ9."
        "eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwiYXVkIjoiNmYxYjJjM2QtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxIn0."
        "c2lnbmF0dXJl",
    ],
)
async def test_with_an_app_id_an_invalid_token_gets_401(secured: TeamsHarness, authorization: str) -> None:
    status, _ = await secured.post(secured.message(QUESTION), headers={"Authorization": authorization})
    assert status == 401 and secured.connector.sent == []


async def test_with_an_app_id_a_malformed_activity_is_still_400(secured: TeamsHarness) -> None:
    activity = secured.message(QUESTION)
    del activity["conversation"]
    status, _ = await secured.post(activity)
    assert status == 400


async def test_a_second_conversation_with_the_same_activity_id_is_still_answered(teams: TeamsHarness) -> None:
    """Teams message ids are timestamps: unique in a conversation, not across conversations."""
    shared = next_id()
    first = teams.message(QUESTION, id=shared)
    second = teams.message(QUESTION, id=shared, conversation={"id": "a:personal-chat-2", "conversationType": "personal"})
    await teams.post(first)
    await teams.post(second)
    assert len(teams.connector.sent) == 2
