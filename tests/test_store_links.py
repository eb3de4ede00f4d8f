"""The state-store contract for message links: which answer a message the bot sent carries, so a
vote that points at the message (Teams' `replyToId`) is stored against that answer. On SQLite and
PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.store import AnswerRecord, SqlStore
from conftest_store import Clock, database_url, postgres_schema_url, store  # noqa: F401

REPLY = "teams:message:19:meeting_Secret-Conversation@thread.v2:1700000000123"


def answer(answer_id: str, at: datetime) -> AnswerRecord:
    return AnswerRecord(
        answer_id=answer_id,
        platform="teams",
        question="What does a VPMA do?",
        answered=True,
        reason=None,
        sections=("Roles › VPMA",),
        confidence=0.8,
        user_hash="member-U1",
        conversation_id="C1",
        created_at=at,
    )


def test_a_sent_message_leads_back_to_its_answer(store: SqlStore) -> None:
    assert store.answer_for_message(REPLY) is None
    store.link_message(REPLY, "A1")
    store.link_message(REPLY + "0", "A2")
    assert store.answer_for_message(REPLY) == "A1"
    assert store.answer_for_message(REPLY + "0") == "A2"


def test_a_retried_link_keeps_the_first_answer(store: SqlStore) -> None:
    store.link_message(REPLY, "A1")
    store.link_message(REPLY, "A2")
    assert store.answer_for_message(REPLY) == "A1"


def test_a_message_link_is_not_a_thread(store: SqlStore) -> None:
    """A link carries no question: a follow-up in a thread must never read one as its context."""
    store.link_message(REPLY, "A1")
    assert store.get_thread(REPLY) is None
    store.set_thread("C1:1700000000.000100", "What does a CMO do?", "A2")
    assert store.answer_for_message("C1:1700000000.000100") is None


def test_message_keys_never_reach_the_database_in_clear(database_url: str) -> None:
    store = SqlStore(database_url, member_key="k" * 32)
    store.link_message(REPLY, "A1")
    with store._engine.connect() as conn:  # noqa: SLF001 - what lies in the table is the behaviour under test
        keys = [row[0] for row in conn.exec_driver_sql("SELECT message_key FROM message_links")]
    assert len(keys) == 1 and len(keys[0]) == 64
    assert "Secret-Conversation" not in keys[0] and "1700000000123" not in keys[0]
    store.close()


def test_purge_takes_the_links_of_the_answers_it_removes(database_url: str) -> None:
    clock = Clock(now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    store = SqlStore(database_url, clock=clock)
    store.save_answer(answer("old", clock.now))
    store.link_message("teams:message:C1:old", "old")
    clock.advance(days=200)
    store.link_message("teams:message:C1:old-resent", "old")  # linked late, still the old answer's
    store.save_answer(answer("new", clock.now))
    store.link_message("teams:message:C1:new", "new")

    assert store.purge(older_than=clock.now - timedelta(days=180)) == 1

    assert store.answer_for_message("teams:message:C1:old") is None
    assert store.answer_for_message("teams:message:C1:old-resent") is None
    assert store.answer_for_message("teams:message:C1:new") == "new"
    store.close()
