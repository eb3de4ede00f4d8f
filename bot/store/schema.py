"""The state store's tables, defined once, and the versioned steps that bring any database to them.

The tables below are the only description of the schema: queries are built from them, and each
migration step names the tables, columns and indexes it introduced, taken from these same
definitions, so a fresh database and an upgraded one cannot drift apart. A step creates what is
missing and skips what is there (a table created at version 1 already has the columns version 2
added), so it brings a database from any earlier version, or from nothing, to the same schema.

Steps only add tables, columns and indexes: an older replica still running during a rolling
deploy keeps working on the newer schema, and no upgrade ever loses a row.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Naive UTC in the database, aware UTC in Python, whatever the backend."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class JsonTuple(sa.TypeDecorator[tuple[str, ...]]):
    """A tuple of strings as JSON text: portable, and readable in psql or sqlite3."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Sequence[str] | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else json.dumps(list(value))

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> tuple[str, ...]:
        return tuple(json.loads(value)) if value else ()


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)
claims = sa.Table(
    "claims",
    metadata,
    sa.Column("claim_key", sa.Text, primary_key=True),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    # NULL or false: done (a plain `claim`, or `complete`d). True: leased by `claim_work`.
    sa.Column("pending", sa.Boolean),
    sa.Column("work", sa.Text),
)
questions = sa.Table(
    "questions",
    metadata,
    sa.Column("answer_id", sa.Text, primary_key=True),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answered", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("sections", JsonTuple, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("user_hash", sa.Text),
    sa.Column("conversation_id", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("answer_id", sa.Text, primary_key=True),
    sa.Column("user_hash", sa.Text, primary_key=True),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
feedback_daily = sa.Table(
    "feedback_daily",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("platform", sa.Text, primary_key=True),
    sa.Column("section", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)
store_secrets = sa.Table(
    "store_secrets",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
threads = sa.Table(
    "threads",
    metadata,
    sa.Column("thread_key", sa.Text, primary_key=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer_id", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
message_links = sa.Table(
    "message_links",
    metadata,
    # A keyed digest of the platform's message key, as thread keys are kept.
    sa.Column("message_key", sa.Text, primary_key=True),
    sa.Column("answer_id", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("handoff_id", sa.Text, primary_key=True),
    # One hand-off per answer: double clicks, retries and replicas find the first.
    sa.Column("answer_id", sa.Text, nullable=False),
    sa.Column("question", sa.Text, nullable=False),  # redacted, as the question log keeps it
    sa.Column("member_name", sa.Text, nullable=False),
    sa.Column("member_platform", sa.Text, nullable=False),
    sa.Column("reply_to", sa.Text, nullable=False),  # JSON: where the member's conversation is, platform-neutral
    sa.Column("bot_answered", sa.Boolean, nullable=False),
    sa.Column("bot_said", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # open, answered, published
    sa.Column("staff_post_key", sa.Text),  # how a staff reply finds its hand-off (`slack:<channel>:<ts>`)
    sa.Column("staff_post", sa.Text),  # JSON: the staff post's reference, for its messenger
    sa.Column("replies", sa.Text, nullable=False),  # JSON list of {key, who, at, text}, text redacted
    sa.Column("reminded_at", UtcDateTime),
    sa.Column("published_title", sa.Text),
    sa.Column("published_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

conversation_refs = sa.Table(
    "conversation_refs",
    metadata,
    # Where the bot may post unprompted (a Teams staff channel: its service URL, tenant, bot id), as
    # its platform last showed it: `<platform>:<conversation id>`; a JSON object only that platform reads.
    sa.Column("conversation_key", sa.Text, primary_key=True),
    sa.Column("ref", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Program staff signed in to the web dashboard (`bot.staff`): accounts by e-mail, one-time invite links and
# sessions kept only as SHA-256 digests of their tokens, and an audit log of who did what (never question text).
staff_accounts = sa.Table(
    "staff_accounts",
    metadata,
    sa.Column("email", sa.Text, primary_key=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("last_sign_in_at", UtcDateTime),
)
staff_invites = sa.Table(
    "staff_invites",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
staff_audit = sa.Table(
    "staff_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)

questions_created_at = sa.Index("questions_created_at", questions.c.created_at)
feedback_created_at = sa.Index("feedback_created_at", feedback.c.created_at)
threads_updated_at = sa.Index("threads_updated_at", threads.c.updated_at)
claims_expires_at = sa.Index("claims_expires_at", claims.c.expires_at)
claims_pending = sa.Index("claims_pending", claims.c.pending, claims.c.expires_at)
message_links_created_at = sa.Index("message_links_created_at", message_links.c.created_at)
handoffs_answer_id = sa.Index("handoffs_answer_id", handoffs.c.answer_id, unique=True)
handoffs_staff_post = sa.Index("handoffs_staff_post", handoffs.c.staff_post_key)
handoffs_state = sa.Index("handoffs_state", handoffs.c.state, handoffs.c.created_at)
handoffs_created_at = sa.Index("handoffs_created_at", handoffs.c.created_at)
# The overview counts a year of questions per day and platform from this index alone, never the question text.
questions_day_platform = sa.Index("questions_day_platform", questions.c.created_at, questions.c.platform, questions.c.answered)
staff_invites_email = sa.Index("staff_invites_email", staff_invites.c.email)
staff_sessions_email = sa.Index("staff_sessions_email", staff_sessions.c.email)
staff_audit_at = sa.Index("staff_audit_at", staff_audit.c.at)

MEMBER_KEY = "member_id_key"


@dataclass(frozen=True)
class Step:
    """One schema version: the tables, columns and indexes it introduced, and any rows it must write."""

    tables: tuple[sa.Table, ...] = ()
    columns: tuple[sa.Column[Any], ...] = ()
    indexes: tuple[sa.Index, ...] = ()
    then: Callable[[Connection], None] | None = None

    def __post_init__(self) -> None:
        for column in self.columns:
            # SQLite cannot add a NOT NULL column without a default to a table that has rows.
            if not column.nullable and column.server_default is None:
                raise ValueError(f"a column added to an existing table must be nullable or have a default: {column}")

    def apply(self, conn: Connection) -> None:
        for table in self.tables:
            table.create(conn, checkfirst=True)
        for column in self.columns:
            owner = column.table
            assert isinstance(owner, sa.Table)
            if column.name not in {c["name"] for c in sa.inspect(conn).get_columns(owner.name)}:
                preparer = conn.dialect.identifier_preparer
                ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE {preparer.format_table(owner)} ADD COLUMN {ddl}")
        for index in self.indexes:
            indexed = index.table
            assert indexed is not None
            if index.name not in {i["name"] for i in sa.inspect(conn).get_indexes(indexed.name)}:
                conn.execute(sa.schema.CreateIndex(index))
        if self.then is not None:
            self.then(conn)


def _make_member_key(conn: Connection) -> None:
    """A random key for `hash_user`, made once, so every replica on the database hashes alike.

    Ids logged before version 4 were hashed without a key; their votes no longer
    match the same member's new ones (a member may vote once more on an old answer).
    """
    conn.execute(sa.insert(store_secrets).values(name=MEMBER_KEY, value=secrets.token_hex(32)))


def _move_message_links_out_of_threads(conn: Connection) -> None:
    """Versions before 5 filed the answer a sent message carries as a thread with no question; those
    rows become links, under the same digest (message keys are hashed as thread keys are)."""
    filed_as_threads = threads.c.question == ""
    conn.execute(
        sa.insert(message_links).from_select(
            ["message_key", "answer_id", "created_at"],
            sa.select(threads.c.thread_key, threads.c.answer_id, threads.c.updated_at).where(filed_as_threads),
        )
    )
    conn.execute(sa.delete(threads).where(filed_as_threads))


MESSAGE_LINKS_VERSION = 5

MIGRATIONS: dict[int, Step] = {
    1: Step(tables=(claims, questions, feedback, threads), indexes=(questions_created_at,)),
    2: Step(
        tables=(feedback_daily,),
        columns=(questions.c.conversation_id, feedback.c.comment),
        indexes=(feedback_created_at, threads_updated_at, claims_expires_at),
    ),
    3: Step(columns=(claims.c.pending, claims.c.work), indexes=(claims_pending,)),
    4: Step(tables=(store_secrets,), then=_make_member_key),
    MESSAGE_LINKS_VERSION: Step(tables=(message_links,), then=_move_message_links_out_of_threads),
    6: Step(tables=(handoffs,), indexes=(handoffs_answer_id, handoffs_staff_post, handoffs_state)),
    7: Step(tables=(conversation_refs,)),
    8: Step(
        tables=(staff_accounts, staff_invites, staff_sessions, staff_audit),
        indexes=(staff_invites_email, staff_sessions_email, staff_audit_at, handoffs_created_at, questions_day_platform),
    ),
}
"""Ordered by version; a new version is a new entry, never an edit of an old one."""

SCHEMA_VERSION = max(MIGRATIONS)

_MIGRATION_LOCK_ID = 0x6775696465  # "guide": serialises replicas migrating at once on PostgreSQL.


def migrate(engine: Engine, now: datetime) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction; return the version found.

    On SQLite the transaction begins IMMEDIATE (see `bot.store.sqlite`) and on PostgreSQL it takes
    an advisory lock, so replicas opening a database at once migrate it one after another.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        schema_version.create(conn, checkfirst=True)
        found = current_version(conn)
        if found > SCHEMA_VERSION:
            log.warning("database schema is version %s, newer than this code's %s; carrying on", found, SCHEMA_VERSION)
        for version, step in sorted(MIGRATIONS.items()):
            if version > found:
                log.info("migrating the state store to schema version %s", version)
                step.apply(conn)
                conn.execute(sa.insert(schema_version).values(version=version, applied_at=now))
        return found


def current_version(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
