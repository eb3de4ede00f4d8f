"""The core call every adapter makes: privacy, commands, follow-ups, the question log, feedback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import Answer, Summary
from bot.indexing import build_index
from bot.service import EngineHolder, Guidebot, Inbound
from bot.settings import Settings
from bot.store import SqlStore
from bot.embedding import load_embedder
from index.embedder import Embedder
from index.guide_index import GuideIndex


@pytest.fixture()
def guidebot(guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, tmp_path: Path) -> Guidebot:
    settings = guide_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'state.sqlite3'}"})
    return Guidebot(settings, EngineHolder(settings, embedder), SqlStore(settings.resolved_database_url))


def test_a_question_is_answered_and_logged(guidebot: Guidebot):
    reply = guidebot.respond(Inbound("What does a VPMA do?", platform="slack", user_id="U1", conversation_id="C1"))
    assert isinstance(reply, Answer) and reply.answered
    [logged] = guidebot.store.questions()
    assert logged.answer_id == reply.answer_id and logged.platform == "slack"
    assert logged.question == "What does a VPMA do?" and logged.answered
    assert logged.user_hash and logged.user_hash != "U1"
    assert logged.sections[0].endswith("Vice President of Medical Affairs")


def test_a_command_returns_a_summary_not_an_answer(guidebot: Guidebot):
    reply = guidebot.respond(Inbound("role vpma", platform="teams"))
    assert isinstance(reply, Summary) and reply.kind == "role"
    assert "Vice President of Medical Affairs" in reply.title
    assert guidebot.store.questions() == []


def test_patient_details_are_refused_and_never_stored(guidebot: Guidebot, tmp_path: Path):
    text = "My patient John Smith, MRN 84736251, DOB 03/04/1961 — should I become a medical director?"
    reply = guidebot.respond(Inbound(text, platform="web", user_id="u"))
    assert isinstance(reply, Answer) and reply.abstained and reply.reason == "phi"
    assert "patient" in reply.message and not reply.passages
    [logged] = guidebot.store.questions()
    assert "84736251" not in logged.question and "John Smith" not in logged.question
    raw = (tmp_path / "state.sqlite3").read_bytes()
    for wal in tmp_path.glob("state.sqlite3-wal"):
        raw += wal.read_bytes()
    assert b"84736251" not in raw and b"John Smith" not in raw


def test_a_follow_up_in_a_thread_uses_the_earlier_question(guidebot: Guidebot):
    first = guidebot.respond(Inbound("What does the MBA teach physicians?", platform="slack", thread_key="C1:100.1"))
    assert isinstance(first, Answer) and first.answered
    follow = guidebot.respond(Inbound("and the MHA?", platform="slack", thread_key="C1:100.1"))
    assert isinstance(follow, Answer) and follow.answered
    assert follow.question == "and the MHA?"
    assert "Master of Health Administration (MHA)" in follow.passages[0].text


def test_a_full_question_in_a_thread_stands_on_its_own(guidebot: Guidebot):
    guidebot.respond(Inbound("What does the MBA teach physicians?", platform="slack", thread_key="C1:200.1"))
    reply = guidebot.respond(Inbound("What does a chief quality officer do?", platform="slack", thread_key="C1:200.1"))
    assert isinstance(reply, Answer) and reply.passages[0].source.section == "Chief Quality Officer"


def test_a_second_feedback_click_replaces_the_first(guidebot: Guidebot):
    answer = guidebot.respond(Inbound("What is capitation?", platform="slack", user_id="U9"))
    guidebot.record_feedback(answer.answer_id, "U9", "slack", "up")
    guidebot.record_feedback(answer.answer_id, "U9", "slack", "down", comment="wanted more")
    [feedback] = guidebot.store.feedback_for(answer.answer_id)
    assert feedback.value == "down" and feedback.comment == "wanted more"
    with pytest.raises(ValueError):
        guidebot.record_feedback(answer.answer_id, "U9", "slack", "meh")


async def test_respond_async_gives_the_same_kind_of_reply(guidebot: Guidebot):
    reply = await guidebot.respond_async(Inbound("What is the CPE credential?", platform="web"))
    assert isinstance(reply, Answer) and "Certified Physician Executive" in reply.passages[0].text


def test_the_engine_holder_swaps_in_a_rebuilt_index(hashing_settings: Settings):
    embedder = load_embedder(hashing_settings)
    build_index(hashing_settings, embedder)
    holder = EngineHolder(hashing_settings, embedder, check_every=0.0)
    before = holder.engine().index.path
    (hashing_settings.documents_dir / "extra.md").write_text(
        "---\nid: extra\ntitle: Extra\n---\n# Extra\n\n## Boards\n\nBoard members oversee the health system's strategy.\n",
        encoding="utf-8",
    )
    build_index(hashing_settings, embedder)
    after = holder.engine().index
    assert after.path != before
    assert any(c.document_id == "extra" for c in after.chunks)
