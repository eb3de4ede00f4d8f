"""Databases written by every earlier schema version open on this code with their rows intact and
end up with the tables a fresh database has. The DDL below is a frozen record of what each version
wrote, kept here so the store's own single definition of the tables is checked against history."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from bot.store import SCHEMA_VERSION, SqlStore, hash_user, normalize_database_url
from bot.store.schema import metadata
from conftest_store import database_url, postgres_schema_url  # noqa: F401

KEY = "ab" * 32

WRITTEN_BY_VERSION: dict[int, list[str]] = {
    1: [
        "CREATE TABLE claims (claim_key TEXT PRIMARY KEY, expires_at TIMESTAMP NOT NULL)",
        "CREATE TABLE questions (answer_id TEXT PRIMARY KEY, platform TEXT NOT NULL, "
        "question TEXT NOT NULL, answered BOOLEAN NOT NULL, reason TEXT, sections TEXT NOT NULL, "
        "confidence DOUBLE PRECISION NOT NULL, user_hash TEXT, created_at TIMESTAMP NOT NULL)",
        "CREATE INDEX questions_created_at ON questions (created_at)",
        "CREATE TABLE feedback (answer_id TEXT NOT NULL, user_hash TEXT NOT NULL, "
        "platform TEXT NOT NULL, value TEXT NOT NULL, created_at TIMESTAMP NOT NULL, "
        "PRIMARY KEY (answer_id, user_hash))",
        "CREATE TABLE threads (thread_key TEXT PRIMARY KEY, question TEXT NOT NULL, "
        "answer_id TEXT NOT NULL, updated_at TIMESTAMP NOT NULL)",
    ],
    2: [
        "ALTER TABLE questions ADD COLUMN conversation_id TEXT",
        "ALTER TABLE feedback ADD COLUMN comment TEXT",
        "CREATE INDEX feedback_created_at ON feedback (created_at)",
        "CREATE INDEX threads_updated_at ON threads (updated_at)",
        "CREATE INDEX claims_expires_at ON claims (expires_at)",
        "CREATE TABLE feedback_daily (day DATE NOT NULL, platform TEXT NOT NULL, "
        "section TEXT NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL, "
        "PRIMARY KEY (day, platform, section, value))",
    ],
    3: [
        "ALTER TABLE claims ADD COLUMN pending BOOLEAN",
        "ALTER TABLE claims ADD COLUMN work TEXT",
        "CREATE INDEX claims_pending ON claims (pending, expires_at)",
    ],
    4: [
        "CREATE TABLE store_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"INSERT INTO store_secrets VALUES ('member_id_key', '{KEY}')",
    ],
    5: [
        "CREATE TABLE message_links (message_key TEXT PRIMARY KEY, answer_id TEXT NOT NULL, created_at TIMESTAMP NOT NULL)",
        "CREATE INDEX message_links_created_at ON message_links (created_at)",
    ],
    6: [
        "CREATE TABLE handoffs (handoff_id TEXT PRIMARY KEY, answer_id TEXT NOT NULL, question TEXT NOT NULL, "
        "member_name TEXT NOT NULL, member_platform TEXT NOT NULL, reply_to TEXT NOT NULL, bot_answered BOOLEAN NOT NULL, "
        "bot_said TEXT NOT NULL, state TEXT NOT NULL, staff_post_key TEXT, staff_post TEXT, replies TEXT NOT NULL, "
        "reminded_at TIMESTAMP, published_title TEXT, published_at TIMESTAMP, created_at TIMESTAMP NOT NULL)",
        "CREATE UNIQUE INDEX handoffs_answer_id ON handoffs (answer_id)",
        "CREATE INDEX handoffs_staff_post ON handoffs (staff_post_key)",
        "CREATE INDEX handoffs_state ON handoffs (state, created_at)",
    ],
    7: ["CREATE TABLE conversation_refs (conversation_key TEXT PRIMARY KEY, ref TEXT NOT NULL, updated_at TIMESTAMP NOT NULL)"],
}

ROWS = [
    "INSERT INTO questions (answer_id, platform, question, answered, reason, sections, confidence, user_hash, "
    "created_at) VALUES ('A-old', 'teams', 'What does a VPMA do?', TRUE, NULL, '[\"Roles › VPMA\"]', 0.9, 'h1', "
    "'2025-06-02 10:00:00')",
    "INSERT INTO feedback (answer_id, user_hash, platform, value, created_at) "
    "VALUES ('A-old', 'h1', 'teams', 'up', '2025-06-02 10:05:00')",
    "INSERT INTO claims (claim_key, expires_at) VALUES ('Ev-old', '2999-01-01 00:00:00')",
    "INSERT INTO threads VALUES ('C1:1700000000.000100', 'What does a VPMA do?', 'A-old', '2025-06-02 10:00:00')",
    # Before message links had a table, Teams filed its reply's answer as a thread with no question.
    "INSERT INTO threads VALUES ('teams:message:C1:m-clear', '', 'A-old', '2025-06-02 10:00:01')",
]


def make_database(url: str, version: int) -> None:
    engine = sa.create_engine(normalize_database_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
        for step in range(1, version + 1):
            for statement in WRITTEN_BY_VERSION[step]:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"INSERT INTO schema_version VALUES ({step}, '2025-06-01 00:00:00')")
        for statement in ROWS if version < 5 else ROWS[:-1]:
            conn.exec_driver_sql(statement)
        if 4 <= version < 5:
            hashed = hash_user("thread", "teams:message:C1:m-hashed", KEY.encode())
            conn.exec_driver_sql(f"INSERT INTO threads VALUES ('{hashed}', '', 'A-old', '2025-06-02 10:00:02')")
        if version >= 5:  # links have their own table, under the keyed digest
            for name in ("m-clear", "m-hashed"):
                hashed = hash_user("thread", f"teams:message:C1:{name}", KEY.encode())
                conn.exec_driver_sql(f"INSERT INTO message_links VALUES ('{hashed}', 'A-old', '2025-06-02 10:00:02')")
    engine.dispose()


def shape(url: str) -> dict[str, tuple[set[str], set[str]]]:
    engine = sa.create_engine(normalize_database_url(url))
    inspector = sa.inspect(engine)
    found = {
        table: ({c["name"] for c in inspector.get_columns(table)}, {str(i["name"]) for i in inspector.get_indexes(table)})
        for table in inspector.get_table_names()
    }
    engine.dispose()
    return found


def defined() -> dict[str, tuple[set[str], set[str]]]:
    """The tables, columns and indexes of `bot.store.schema`, in the form `shape` reads from a database."""
    return {
        table.name: ({c.name for c in table.columns}, {str(i.name) for i in table.indexes})
        for table in metadata.sorted_tables
    }


def test_the_migrations_reach_the_version_the_code_declares() -> None:
    assert SCHEMA_VERSION == max(WRITTEN_BY_VERSION) + 1


@pytest.mark.parametrize("version", sorted(WRITTEN_BY_VERSION))
def test_a_database_of_an_earlier_version_is_upgraded_with_its_rows_intact(database_url: str, version: int) -> None:
    make_database(database_url, version)
    store = SqlStore(database_url)
    assert store.current_schema_version() == SCHEMA_VERSION

    (question,) = store.questions()
    assert (question.answer_id, question.sections, question.conversation_id) == ("A-old", ("Roles › VPMA",), None)
    assert question.created_at == datetime(2025, 6, 2, 10, tzinfo=timezone.utc)
    (vote,) = store.feedback_for("A-old")
    assert (vote.user_hash, vote.value, vote.comment) == ("h1", "up", None)
    assert store.claim("Ev-old") is False
    thread = store.get_thread("C1:1700000000.000100")
    assert thread is not None and thread.question == "What does a VPMA do?"

    assert store.answer_for_message("teams:message:C1:m-clear") == "A-old"
    assert store.get_thread("teams:message:C1:m-clear") is None, "a link is no longer a thread"
    if version >= 4:
        assert store.answer_for_message("teams:message:C1:m-hashed") == "A-old"

    store.record_feedback("A-old", "U2", "teams", "down", comment="a column added in version 2")
    assert store.claim_work("teams:work:C1:1", lease_seconds=60, work="{}") == "won"
    store.close()

    assert shape(database_url) == defined()


def test_a_fresh_database_has_exactly_the_tables_defined(database_url: str) -> None:
    SqlStore(database_url).close()
    assert shape(database_url) == defined()
