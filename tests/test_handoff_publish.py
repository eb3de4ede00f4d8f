"""Back into the guide: `guidebot handoffs list` shows the queue, `guidebot handoffs publish` writes a reply
into program-team-answers.md, and the next index answers similar questions from it, with that source.

Everything runs on a copy of knowledge/ in a temporary directory: the real documents are never touched.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bot.engine import AnswerEngine
from bot.handoff import Handoff, StaffReply
from bot.handoff.cli import register
from bot.handoff.publish import DOCUMENT_ID, document_path, publish_handoff
from bot.indexing import build_index
from bot.settings import PROJECT_ROOT, Settings
from bot.store import AnswerRecord, SqlStore
from index.guide_index import load_index

QUESTION = "Can alumni of the program join the mentoring circle after graduating?"
REPLY = (
    "Yes. Alumni can join the mentoring circle for two years after graduating: write to the program office "
    "to be matched with a mentor."
)
SIMILAR = "Are graduates allowed to stay in the mentoring circle?"
runner = CliRunner(env={"COLUMNS": "250"})


def cli(settings: Settings) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """guidebot"""

    register(app, lambda: settings)
    return app


@pytest.fixture
def settings(guide_settings: Settings, guide_index: Any, tmp_path: Path) -> Settings:
    """A copy of the guide's knowledge and a fresh data dir (with the session's embedding cache, for speed)."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    data = tmp_path / "data"
    cache = guide_settings.data_dir / "embeddings"
    if cache.exists():
        shutil.copytree(cache, data / "embeddings")
    return guide_settings.model_copy(update={"knowledge_dir": knowledge, "data_dir": data, "database_url": f"sqlite:///{tmp_path / 'state.sqlite3'}"})


def answered_handoff(settings: Settings, question: str = QUESTION, reply: str = REPLY) -> Handoff:
    store = SqlStore.for_settings(settings)
    try:
        store.save_answer(AnswerRecord("A-mentor", "slack", question, False, "out_of_scope", (), 0.1, "h", "D1"))
        handoff, _ = store.open_handoff(
            Handoff(id="", answer_id="A-mentor", question=question, member_name="Dr. Rivera", member_platform="slack", reply_to={"channel": "D1"}, bot_answered=False, bot_said="Said the guide doesn't cover it.")
        )
        added = store.add_handoff_reply(handoff.id, StaffReply("slack:C1:2.0", "Ann Lee", reply, datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)))
        assert added is not None
        return added[0]
    finally:
        store.close()


def test_published_replies_answer_similar_questions_after_the_next_index(settings: Settings, engine: AnswerEngine, embedder: Any) -> None:
    assert not engine.answer(SIMILAR).answered, "the guide alone does not cover it"
    handoff = answered_handoff(settings)

    listed = runner.invoke(cli(settings), ["handoffs", "list", "--open"])
    assert listed.exit_code == 0, listed.output
    assert "no open" not in listed.output and handoff.id not in listed.output, "answered: not open any more"
    listed = runner.invoke(cli(settings), ["handoffs", "list"])
    assert handoff.id in listed.output and "Dr. Rivera (slack)" in listed.output and "last by Ann Lee" in listed.output

    published = runner.invoke(cli(settings), ["handoffs", "publish", handoff.id, "--title", "Can alumni stay in the mentoring circle?"])
    assert published.exit_code == 0, published.output
    document = document_path(settings.documents_dir).read_text(encoding="utf-8")
    assert "## Can alumni stay in the mentoring circle?" in document and REPLY in document, "verbatim"
    assert f"Answered by the program team on {datetime.now(timezone.utc):%d %B %Y}." in document, "and dated"
    store = SqlStore.for_settings(settings)
    try:
        stored = store.handoff(handoff.id)
        assert stored is not None and stored.state == "published" and stored.published_title == "Can alumni stay in the mentoring circle?"
    finally:
        store.close()

    build_index(settings, embedder)
    rebuilt = AnswerEngine(load_index(settings.index_dir), embedder)
    answer = rebuilt.answer(SIMILAR)
    assert answer.answered, answer.reason
    assert answer.passages[0].source.document_id == DOCUMENT_ID
    assert answer.passages[0].source.section == "Can alumni stay in the mentoring circle?"
    assert any("two years after graduating" in s.text for s in answer.lead)
    assert not (PROJECT_ROOT / "knowledge" / "documents" / f"{DOCUMENT_ID}.md").exists(), "the real guide untouched"


def test_publish_refuses_a_hand_off_without_a_reply_or_unknown(settings: Settings) -> None:
    store = SqlStore.for_settings(settings)
    try:
        store.save_answer(AnswerRecord("A-open", "slack", "Is there a retreat?", False, "out_of_scope", (), 0.1, "h", "D1"))
        handoff, _ = store.open_handoff(
            Handoff(id="", answer_id="A-open", question="Is there a retreat?", member_name="Dr. Lee", member_platform="teams", reply_to={}, bot_answered=False, bot_said="-")
        )
    finally:
        store.close()
    result = runner.invoke(cli(settings), ["handoffs", "publish", handoff.id])
    assert result.exit_code == 1 and "no reply" in result.output
    assert runner.invoke(cli(settings), ["handoffs", "publish", "nope"]).exit_code == 1
    listed = runner.invoke(cli(settings), ["handoffs", "list", "--open"])
    assert handoff.id in listed.output and "(not posted yet)" in listed.output
    assert not document_path(settings.documents_dir).exists()


def test_publishing_again_replaces_the_section_and_titles_are_one_clean_line(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    documents = knowledge / "documents"
    reply = StaffReply("k", "Ann", "First paragraph.\n\nSecond   paragraph.", datetime(2026, 12, 2, tzinfo=timezone.utc))
    one = Handoff(id="h1", answer_id="a1", question="q1", member_name="m", member_platform="slack", reply_to={}, bot_answered=False, bot_said="", replies=(reply,))
    two = Handoff(id="h2", answer_id="a2", question="q2", member_name="m", member_platform="slack", reply_to={}, bot_answered=False, bot_said="", replies=(reply,))
    publish_handoff(knowledge, documents, one, "## Old title <!-- x -->", date(2026, 12, 2))
    publish_handoff(knowledge, documents, two, "Another question?", date(2026, 12, 2))
    _, title = publish_handoff(knowledge, documents, one, "New\ntitle?", date(2026, 12, 3))
    text = document_path(documents).read_text(encoding="utf-8")
    assert title == "New title?" and text.count("<!-- handoff:h1 -->") == 1 and "Old title" not in text
    assert "## Another question?" in text and "First paragraph.\n\nSecond paragraph." in text
    assert text.index("## New title?") < text.index("## Another question?"), "a section keeps its place"
    from knowledge.loaders import load_markdown

    document = load_markdown(document_path(documents))
    assert document.id == DOCUMENT_ID and [b.text for b in document.blocks if b.kind == "heading"] == ["New title?", "Another question?"]


def test_a_published_reporting_line_lifts_the_refusal_of_reporting_line_questions(settings: Settings, engine: AnswerEngine, embedder: Any) -> None:
    """The guide states no reporting line, so questions that ask one are refused whatever the model says
    (`bot.reporting_lines`); once the program team publishes one, the documents state it and such a question is
    answered from it like any other."""
    question = "Who do the CMOs at the program's partner hospitals report to?"
    reply = "At the program's partner hospitals the CMO reports to the CEO and meets the board's quality committee every quarter."
    assert engine.answer(question).abstained, "the guide alone states no reporting line"
    handoff = answered_handoff(settings, question, reply)
    published = runner.invoke(cli(settings), ["handoffs", "publish", handoff.id, "--title", question])
    assert published.exit_code == 0, published.output

    build_index(settings, embedder)
    answer = AnswerEngine(load_index(settings.index_dir), embedder).answer(question)
    assert answer.answered, (answer.reason, answer.confidence)
    assert answer.passages[0].source.document_id == DOCUMENT_ID
    assert any("reports to the CEO" in s.text for s in answer.lead)
