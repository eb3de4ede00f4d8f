"""Durable state shared by every server replica.

Idempotency claims for platform retries, the question log, feedback on answers
and the earlier question of a thread. One implementation, `SqlStore`, runs on a
SQLite file (one server) or on PostgreSQL (many replicas, one database).
Replicas share nothing but the database, so every operation is one short
transaction whose correctness rests on primary keys and ON CONFLICT, never on a
lock held in this process.

Claims come in two kinds: `claim` takes a key for good (for its TTL), and
`claim_work` leases it until `complete`, so work a replica claimed and then
died doing is done again by the next claimer rather than lost.

Privacy: questions arrive already redacted (see `bot.privacy`); the store keeps
at most `max_text_chars` of any text, without control characters (`stored_text`).
User ids are stored only as `hash_user` digests keyed with a secret (see
`member_hash`), and thread keys, which name a console session, only as digests
with the same key. `purge` removes the question log and the feedback that quotes
it once they pass the retention period, keeping feedback only as daily counts per
section; on SQLite the removed text is overwritten (`secure_delete`) and the
write-ahead log emptied, and the database file is its owner's alone (0600).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import secrets
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from bot.settings import Settings

log = logging.getLogger(__name__)

FEEDBACK_VALUES = ("up", "down")
NO_SECTION = ""
"""The section recorded for feedback on an answer that quoted no section (an abstention)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


DEFAULT_MAX_TEXT_CHARS: int = Settings.model_fields["max_question_chars"].default
"""The most characters of a question, thread question or comment the store keeps (GUIDEBOT_MAX_QUESTION_CHARS)."""

_TERMINAL_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b\x9c\n]{0,4096}(?:\x07|\x1b\\|\x9c)?"  # OSC (window title, hyperlinks, clipboard)
    r"|(?:\x1b\[|\x9b)[0-?]{0,64}[ -/]{0,16}[@-~]?"  # CSI (clear screen, move the cursor, colours)
    r"|\x1b[ -~]?"  # any other escape
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls but tab and newline, DEL, and the bidirectional overrides that make text read
other than it is stored."""


def without_controls(text: str) -> str:
    """`text` without terminal escape sequences and control characters (they would act on the terminal of
    whoever reads `guidebot report`), line ends made `\\n`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _TERMINAL_SEQUENCE.sub("", text))


def stored_text(text: str, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> str:
    """`text` as the store keeps it: `without_controls`, cut to `max_chars`, the most the bot reads of a message."""
    return without_controls(text)[:max_chars]


def hash_user(platform: str, user_id: str, key: bytes) -> str:
    """The only form in which a member's id is stored: members are physicians.

    Keyed (HMAC-SHA256), because a plain digest of an id is no disguise: anyone
    who can list a workspace's members could hash every id and match them.
    """
    return hmac.new(key, f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AnswerRecord:
    """One line of the question log: what was asked and how the bot fared."""

    answer_id: str
    platform: str
    question: str
    answered: bool
    reason: str | None
    sections: tuple[str, ...]
    confidence: float
    user_hash: str | None
    conversation_id: str | None
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))


@dataclass(frozen=True)
class FeedbackRecord:
    """A member's current 👍/👎 on an answer, with the sections that answer quoted."""

    answer_id: str
    user_hash: str
    platform: str
    value: str
    comment: str | None
    created_at: datetime
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedbackTotal:
    """Feedback that `purge` removed, kept as a count so reports still see it."""

    day: date
    platform: str
    section: str
    value: str
    count: int


ClaimResult = Literal["won", "done", "busy"]
"""What `claim_work` found: the key is now the caller's (`won`), its work was completed
(`done`), or another caller holds its lease (`busy`: working on it, or died less than a
lease ago)."""


@dataclass(frozen=True)
class UnfinishedWork:
    """Work a replica claimed and never completed (it died): the key and what to redo it from."""

    key: str
    work: str
    lease_expired_at: datetime


@dataclass(frozen=True)
class ThreadContext:
    """The question asked earlier in a thread, so "and the MHA?" can be understood."""

    question: str
    answer_id: str
    updated_at: datetime


class StateStore(Protocol):
    def member_hash(self, platform: str, user_id: str) -> str: ...

    def claim(self, key: str, ttl_seconds: int = 86400) -> bool: ...

    def claim_work(self, key: str, *, lease_seconds: int, work: str | None = None) -> ClaimResult: ...

    async def claim_work_async(self, key: str, *, lease_seconds: int, work: str | None = None) -> ClaimResult: ...

    def complete(self, key: str, ttl_seconds: int = 86400) -> None: ...

    def unfinished(self, prefix: str, limit: int = 100) -> list[UnfinishedWork]: ...

    def save_answer(self, record: AnswerRecord) -> None: ...

    def record_feedback(
        self, answer_id: str, user_id: str, platform: str, value: str, comment: str | None = None
    ) -> None: ...

    def feedback_for(self, answer_id: str) -> list[FeedbackRecord]: ...

    def set_thread(self, thread_key: str, question: str, answer_id: str) -> None: ...

    def get_thread(self, thread_key: str) -> ThreadContext | None: ...

    def questions(self, since: datetime | None = None) -> list[AnswerRecord]: ...

    def answer(self, answer_id: str) -> AnswerRecord | None: ...

    def feedback(self, since: datetime | None = None) -> list[FeedbackRecord]: ...

    def feedback_totals(self, since: datetime | None = None) -> list[FeedbackTotal]: ...

    def purge(self, older_than: datetime) -> int: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


class _UtcDateTime(sa.TypeDecorator[datetime]):
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


class _JsonTuple(sa.TypeDecorator[tuple[str, ...]]):
    """A tuple of strings as JSON text: portable, and readable in psql or sqlite3."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Sequence[str] | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else json.dumps(list(value))

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> tuple[str, ...]:
        return tuple(json.loads(value)) if value else ()


# The current shape of the tables, for queries only. Tables are created and
# changed solely by MIGRATIONS below, so an old database and a new one end up
# the same.
_tables = sa.MetaData()
schema_version = sa.Table(
    "schema_version",
    _tables,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", _UtcDateTime, nullable=False),
)
claims = sa.Table(
    "claims",
    _tables,
    sa.Column("claim_key", sa.Text, primary_key=True),
    sa.Column("expires_at", _UtcDateTime, nullable=False),
    # NULL or false: done (a plain `claim`, or `complete`d). True: leased by `claim_work`.
    sa.Column("pending", sa.Boolean),
    sa.Column("work", sa.Text),
)
questions_table = sa.Table(
    "questions",
    _tables,
    sa.Column("answer_id", sa.Text, primary_key=True),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answered", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("sections", _JsonTuple, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("user_hash", sa.Text),
    sa.Column("conversation_id", sa.Text),
    sa.Column("created_at", _UtcDateTime, nullable=False),
)
feedback_table = sa.Table(
    "feedback",
    _tables,
    sa.Column("answer_id", sa.Text, primary_key=True),
    sa.Column("user_hash", sa.Text, primary_key=True),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("created_at", _UtcDateTime, nullable=False),
)
feedback_daily = sa.Table(
    "feedback_daily",
    _tables,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("platform", sa.Text, primary_key=True),
    sa.Column("section", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)
store_secrets = sa.Table(
    "store_secrets",
    _tables,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
threads = sa.Table(
    "threads",
    _tables,
    sa.Column("thread_key", sa.Text, primary_key=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer_id", sa.Text, nullable=False),
    sa.Column("updated_at", _UtcDateTime, nullable=False),
)


def _run(conn: Connection, statements: Iterable[str]) -> None:
    for statement in statements:
        conn.exec_driver_sql(statement)


def _v1_initial(conn: Connection) -> None:
    _run(
        conn,
        [
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
    )


def _v2_comments_conversations_and_daily_feedback(conn: Connection) -> None:
    _run(
        conn,
        [
            "ALTER TABLE questions ADD COLUMN conversation_id TEXT",
            "ALTER TABLE feedback ADD COLUMN comment TEXT",
            "CREATE INDEX feedback_created_at ON feedback (created_at)",
            "CREATE INDEX threads_updated_at ON threads (updated_at)",
            "CREATE INDEX claims_expires_at ON claims (expires_at)",
            "CREATE TABLE feedback_daily (day DATE NOT NULL, platform TEXT NOT NULL, "
            "section TEXT NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL, "
            "PRIMARY KEY (day, platform, section, value))",
        ],
    )


def _v3_claim_leases(conn: Connection) -> None:
    _run(
        conn,
        [
            "ALTER TABLE claims ADD COLUMN pending BOOLEAN",
            "ALTER TABLE claims ADD COLUMN work TEXT",
            "CREATE INDEX claims_pending ON claims (pending, expires_at)",
        ],
    )


MEMBER_KEY = "member_id_key"


def _v4_member_id_key(conn: Connection) -> None:
    """A random key for `hash_user`, made once, so every replica on the database hashes alike.

    Ids logged before this version were hashed without a key; their votes no longer
    match the same member's new ones (a member may vote once more on an old answer).
    """
    conn.exec_driver_sql("CREATE TABLE store_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(sa.insert(store_secrets).values(name=MEMBER_KEY, value=secrets.token_hex(32)))


Migration = Callable[[Connection], None]

MIGRATIONS: dict[int, Migration] = {
    1: _v1_initial,
    2: _v2_comments_conversations_and_daily_feedback,
    3: _v3_claim_leases,
    4: _v4_member_id_key,
}
"""Ordered by version. Migrations only add tables, columns and indexes: an older
replica still running during a rolling deploy keeps working on the newer schema,
and no upgrade ever loses a row."""

SCHEMA_VERSION = max(MIGRATIONS)

_MIGRATION_LOCK_ID = 0x6775696465  # "guide": serialises replicas migrating at once on PostgreSQL.
_SWEEP_EVERY_N_CLAIMS = 256
UNFINISHED_WORK_KEPT = timedelta(days=1)
"""How long the work of a lapsed lease waits for `unfinished` to pick it up before sweeps drop it."""
_IN_CHUNK = 500


def normalize_database_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _owner_only(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it gives its -wal and -shm files the database's
    mode), and tighten one made looser by an earlier version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        try:
            if file.exists() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except OSError as error:
            log.warning("could not make %s readable by its owner only: %s", file, error)


def _sqlite_engine(url: URL) -> tuple[Engine, bool]:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory:
        _owner_only(Path(str(url.database)))
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({"poolclass": StaticPool} if in_memory else {}),
    )

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would
        # defer it), and make a returned commit durable against power loss.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        # Deleted rows are overwritten with zeros, whatever the SQLite build's default (see `purge`).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Take the write lock up front: a deferred transaction that later
        # writes can fail with SQLITE_BUSY without waiting for busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine, in_memory


def _create_engine(url: str) -> tuple[Engine, bool]:
    parsed = make_url(normalize_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return sa.create_engine(parsed, pool_pre_ping=True), False


def _migrate(engine: Engine, now: datetime) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction; return the version found."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
        )
        found = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
        if found > SCHEMA_VERSION:
            log.warning(
                "database schema is version %s, newer than this code's %s; carrying on",
                found,
                SCHEMA_VERSION,
            )
        for version in sorted(MIGRATIONS):
            if version > found:
                log.info("migrating the state store to schema version %s", version)
                MIGRATIONS[version](conn)
                conn.execute(sa.insert(schema_version).values(version=version, applied_at=now))
        return found


def _sweepable(now: datetime) -> sa.ColumnElement[bool]:
    """Expired claims, except lapsed work still waiting (for a day) for a replica to redo it."""
    return sa.and_(
        claims.c.expires_at <= now,
        sa.or_(claims.c.work.is_(None), claims.c.expires_at <= now - UNFINISHED_WORK_KEPT),
    )


@dataclass(frozen=True)
class _Statements:
    """The statements run for every question, built once with bound parameters.

    Building a SQLAlchemy statement (and its cache key) on each call had cost more
    than running it: 0.84 ms of CPU to record a thread against 0.40 ms prebuilt, all
    of it holding the GIL that the event loop needs for the next ack.
    """

    drop_expired_claim: sa.Delete
    drop_expired_claims: sa.Delete
    new_claim: Any
    claims_pending: sa.Select[Any]
    complete_claim: Any
    log_answer: Any
    vote: Any
    remember_thread: Any
    thread: sa.Select[Any]

    @classmethod
    def build(cls, insert: Callable[[sa.Table], Any]) -> _Statements:
        key = claims.c.claim_key == sa.bindparam("key")
        keys = claims.c.claim_key.in_(sa.bindparam("keys", expanding=True))
        done = insert(claims)
        vote = insert(feedback_table)
        thread = insert(threads)
        return cls(
            drop_expired_claim=sa.delete(claims).where(key, claims.c.expires_at <= sa.bindparam("now")),
            drop_expired_claims=sa.delete(claims).where(keys, claims.c.expires_at <= sa.bindparam("now")),
            new_claim=insert(claims).on_conflict_do_nothing(index_elements=["claim_key"]).returning(claims.c.claim_key),
            claims_pending=sa.select(claims.c.claim_key, claims.c.pending).where(keys),
            complete_claim=done.on_conflict_do_update(
                index_elements=["claim_key"], set_={"expires_at": done.excluded.expires_at, "pending": False, "work": None}
            ),
            log_answer=insert(questions_table).on_conflict_do_nothing(index_elements=["answer_id"]),
            vote=vote.on_conflict_do_update(
                index_elements=["answer_id", "user_hash"],
                set_={"value": vote.excluded.value, "comment": vote.excluded.comment, "created_at": vote.excluded.created_at},
            ),
            remember_thread=thread.on_conflict_do_update(
                index_elements=["thread_key"],
                set_={"question": thread.excluded.question, "answer_id": thread.excluded.answer_id, "updated_at": thread.excluded.updated_at},
            ),
            thread=sa.select(threads).where(threads.c.thread_key == sa.bindparam("key")),
        )


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Turns:
    """SQLite's one transaction at a time, handed out in this process in order of arrival, with the
    transactions a platform is waiting on (`urgent`: a lease or a vote before Slack's ack, a readiness
    probe) served before bookkeeping done after an answer (the question log, threads, completions).

    A plain lock wakes whichever waiter the scheduler picks, so under load a write could wait behind
    dozens of later ones; and first come first served alone put an ack's lease behind every answer's
    log writes.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: tuple[deque[threading.Lock], deque[threading.Lock]] = (deque(), deque())

    @contextmanager
    def turn(self, urgent: bool) -> Iterator[None]:
        with self._mutex:
            gate = None
            if self._held:
                gate = threading.Lock()
                gate.acquire()
                self._waiting[0 if urgent else 1].append(gate)
            self._held = True
        if gate is not None:
            gate.acquire()  # released by the holder before us, which hands its turn straight over
        try:
            yield
        finally:
            with self._mutex:
                queue = self._waiting[0] or self._waiting[1]
                if queue:
                    queue.popleft().release()
                else:
                    self._held = False


@dataclass
class _LeaseRequest:
    key: str
    lease_seconds: int
    work: str | None
    result: Future[ClaimResult] = field(default_factory=Future)


class SqlStore:
    """`StateStore` on SQLite or PostgreSQL through SQLAlchemy Core.

    Opening a store creates or upgrades its tables. `clock` exists so tests can
    move time forward instead of sleeping.
    """

    def __init__(
        self,
        url: str,
        clock: Callable[[], datetime] = utc_now,
        *,
        member_key: str | None = None,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    ) -> None:
        self._engine, self._in_memory = _create_engine(url)
        self._max_text_chars = max_text_chars
        # SQLite runs one transaction at a time (each begins IMMEDIATE). Queue this process's threads
        # here (`_Turns`) rather than in SQLite's busy handler, which sleeps up to 100 ms between looks and
        # so made a 1 ms write wait whole sleeps under load; other processes still meet busy_timeout.
        # (An in-memory database is also one connection shared by all threads.) PostgreSQL
        # needs neither.
        self._turns = _Turns() if self._engine.dialect.name == "sqlite" else None
        self._lease_queue: list[_LeaseRequest] = []
        self._lease_ready = threading.Condition()
        self._lease_writer: threading.Thread | None = None
        self._closed = False
        self._clock = clock
        self._claims = itertools.count(1)
        self._is_postgres = self._engine.dialect.name == "postgresql"
        self._sql = _Statements.build(self._insert)
        _migrate(self._engine, clock())
        self._member_key = (member_key or self._stored_member_key()).encode()
        self._hash_thread_keys_stored_in_clear()

    @classmethod
    def for_settings(cls, settings: Settings) -> SqlStore:
        key = settings.member_id_key.get_secret_value() if settings.member_id_key else None
        return cls(settings.resolved_database_url, member_key=key, max_text_chars=settings.max_question_chars)

    def _stored_member_key(self) -> str:
        with self._engine.connect() as conn:
            key = conn.execute(sa.select(store_secrets.c.value).where(store_secrets.c.name == MEMBER_KEY)).scalar()
        if not key:
            raise RuntimeError(f"the state store has no {MEMBER_KEY}; set GUIDEBOT_MEMBER_ID_KEY")
        return str(key)

    def member_hash(self, platform: str, user_id: str) -> str:
        """A member's id as the store keeps it: with `GUIDEBOT_MEMBER_ID_KEY`, or the database's own key."""
        return hash_user(platform, user_id, self._member_key)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _transaction(self, urgent: bool = False) -> Iterator[Connection]:
        """One transaction; `urgent` when a platform waits on it (see `_Turns`)."""
        with self._turns.turn(urgent) if self._turns else nullcontext(), self._engine.begin() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self._is_postgres else sqlite.insert)(table)

    def claim(self, key: str, ttl_seconds: int = 86400) -> bool:
        now = self._clock()
        with self._transaction(urgent=True) as conn:
            conn.execute(self._sql.drop_expired_claim, {"key": key, "now": now})
            # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT.
            inserted = conn.execute(
                self._sql.new_claim, {"claim_key": key, "expires_at": now + timedelta(seconds=ttl_seconds)}
            ).first()
            if next(self._claims) % _SWEEP_EVERY_N_CLAIMS == 0:
                conn.execute(sa.delete(claims).where(_sweepable(now)))
        return inserted is not None

    def claim_work(self, key: str, *, lease_seconds: int, work: str | None = None) -> ClaimResult:
        """Lease `key` for work that must be done exactly once, even if this process dies doing it.

        Unlike `claim`, the key is taken only for `lease_seconds`: `complete(key)`
        once the work is done (the answer delivered) makes it final. A replica
        that dies before that (SIGKILL, OOM, a lost node) lets its lease lapse;
        then the platform's retry claims the key again and does the work, instead
        of being turned away by a claim nobody will ever finish. `work` is what
        to redo the work from (JSON, say) for platforms that never retry once they
        had an ack: `unfinished` hands it to the next replica. Choose a lease
        longer than the work can take, retries included: a lease that lapses
        while its holder is still working lets a second caller do the work too.
        """
        if self._turns is None:
            with self._transaction(urgent=True) as conn:
                return self._lease_many(conn, [_LeaseRequest(key, lease_seconds, work)], self._clock())[0]
        return self._lease_with_others(_LeaseRequest(key, lease_seconds, work)).result()

    async def claim_work_async(self, key: str, *, lease_seconds: int, work: str | None = None) -> ClaimResult:
        """`claim_work` for an event loop: on SQLite the loop waits for the lease writer itself.

        An ack waits on its lease; handing the wait to a thread first cost it two
        hand-overs between threads, each a wait for the GIL under load.
        """
        if self._turns is None:
            return await asyncio.to_thread(self.claim_work, key, lease_seconds=lease_seconds, work=work)
        return await asyncio.wrap_future(self._lease_with_others(_LeaseRequest(key, lease_seconds, work)))

    def _lease_with_others(self, mine: _LeaseRequest) -> Future[ClaimResult]:
        """On SQLite, leases asked for at about the same moment are taken together, in one transaction.

        A burst of Slack events (members answering the same batch of replies, say) would
        otherwise be acknowledged one fsync after another. One writer thread takes every
        request queued while it was committing the last ones; the callers wait for theirs.
        """
        with self._lease_ready:
            if self._closed:
                raise RuntimeError("the state store is closed")
            if self._lease_writer is None or not self._lease_writer.is_alive():
                self._lease_writer = threading.Thread(target=self._write_leases, name="lease-writer", daemon=True)
                self._lease_writer.start()
            self._lease_queue.append(mine)
            self._lease_ready.notify()
        return mine.result

    def _write_leases(self) -> None:
        assert self._turns is not None
        while True:
            with self._lease_ready:
                while not self._lease_queue and not self._closed:
                    self._lease_ready.wait()
                if not self._lease_queue:
                    return
                batch, self._lease_queue = self._lease_queue, []
            try:
                with self._turns.turn(urgent=True), self._engine.begin() as conn:
                    results = self._lease_many(conn, batch, self._clock())
            except Exception as error:  # noqa: BLE001 - each caller raises it from its own future, none waits forever
                for request in batch:
                    request.result.set_exception(error)
            else:
                for request, result in zip(batch, results, strict=True):
                    request.result.set_result(result)

    def _lease_many(self, conn: Connection, batch: list[_LeaseRequest], now: datetime) -> list[ClaimResult]:
        """Lease each request's key unless another holds it: three statements for the whole batch (one per
        lease had made a burst, and every ack waiting on it, take tens of milliseconds). A key asked for
        twice in one batch (an event and its retry) is won by the first request only; the others find it busy."""
        first: dict[str, _LeaseRequest] = {}
        for request in batch:
            first.setdefault(request.key, request)
        keys = list(first)
        conn.execute(self._sql.drop_expired_claims, {"keys": keys, "now": now})
        rows = [
            {"claim_key": r.key, "expires_at": now + timedelta(seconds=r.lease_seconds), "pending": True, "work": r.work}
            for r in first.values()
        ]
        won = set(conn.execute(self._sql.new_claim, rows).scalars())
        others = [key for key in keys if key not in won]
        pending: dict[str, bool] = {}
        if others:
            pending = {key: bool(flag) for key, flag in conn.execute(self._sql.claims_pending, {"keys": others})}
        outcome: dict[str, ClaimResult] = {
            key: "won" if key in won else "busy" if pending.get(key) else "done" for key in keys
        }
        return [
            outcome[r.key] if first[r.key] is r else "busy" if outcome[r.key] == "won" else outcome[r.key] for r in batch
        ]

    def complete(self, key: str, ttl_seconds: int = 86400) -> None:
        """The work leased under `key` is done: keep the key claimed for `ttl_seconds` and forget the work."""
        done = {"claim_key": key, "expires_at": self._clock() + timedelta(seconds=ttl_seconds), "pending": False, "work": None}
        with self._transaction() as conn:
            conn.execute(self._sql.complete_claim, done)

    def unfinished(self, prefix: str, limit: int = 100) -> list[UnfinishedWork]:
        """Leased work under `prefix` whose lease lapsed before it was completed, oldest first.

        Only reads: take each item with `claim_work(key, lease_seconds=…, work=item.work)`
        before redoing it, so two replicas recovering at once do it once.
        """
        query = (
            sa.select(claims.c.claim_key, claims.c.work, claims.c.expires_at)
            .where(
                claims.c.pending.is_(True),
                claims.c.work.is_not(None),
                claims.c.expires_at <= self._clock(),
                claims.c.claim_key.startswith(prefix, autoescape=True),
            )
            .order_by(claims.c.expires_at)
            .limit(limit)
        )
        with self._transaction() as conn:
            rows = conn.execute(query).all()
        return [UnfinishedWork(row.claim_key, row.work, row.expires_at) for row in rows]

    def save_answer(self, record: AnswerRecord) -> None:
        """Log an answer; a retry with the same answer_id keeps the first row."""
        row = {
            "answer_id": record.answer_id,
            "platform": record.platform,
            "question": stored_text(record.question, self._max_text_chars),
            "answered": record.answered,
            "reason": record.reason,
            "sections": record.sections,
            "confidence": float(record.confidence),
            "user_hash": record.user_hash,
            "conversation_id": record.conversation_id,
            "created_at": record.created_at,
        }
        with self._transaction() as conn:
            conn.execute(self._sql.log_answer, row)

    def record_feedback(
        self, answer_id: str, user_id: str, platform: str, value: str, comment: str | None = None
    ) -> None:
        """Keep one vote per member and answer: a second click replaces the first."""
        if value not in FEEDBACK_VALUES:
            raise ValueError(f"feedback value must be one of {FEEDBACK_VALUES}, not {value!r}")
        vote = {
            "answer_id": answer_id,
            "user_hash": self.member_hash(platform, user_id),
            "platform": platform,
            "value": value,
            "comment": None if comment is None else stored_text(comment, self._max_text_chars),
            "created_at": self._clock(),
        }
        with self._transaction(urgent=True) as conn:
            conn.execute(self._sql.vote, vote)

    def _feedback_query(self) -> sa.Select[Any]:
        return sa.select(
            feedback_table.c.answer_id,
            feedback_table.c.user_hash,
            feedback_table.c.platform,
            feedback_table.c.value,
            feedback_table.c.comment,
            feedback_table.c.created_at,
            questions_table.c.sections,
        ).select_from(
            feedback_table.outerjoin(
                questions_table, questions_table.c.answer_id == feedback_table.c.answer_id
            )
        )

    def _feedback_rows(self, query: sa.Select[Any]) -> list[FeedbackRecord]:
        with self._transaction() as conn:
            rows = conn.execute(query).all()
        return [
            FeedbackRecord(
                answer_id=row.answer_id,
                user_hash=row.user_hash,
                platform=row.platform,
                value=row.value,
                comment=row.comment,
                created_at=row.created_at,
                sections=row.sections or (),
            )
            for row in rows
        ]

    def feedback_for(self, answer_id: str) -> list[FeedbackRecord]:
        query = self._feedback_query().where(feedback_table.c.answer_id == answer_id)
        return self._feedback_rows(query.order_by(feedback_table.c.created_at))

    def feedback(self, since: datetime | None = None) -> list[FeedbackRecord]:
        query = self._feedback_query()
        if since is not None:
            query = query.where(feedback_table.c.created_at >= since)
        return self._feedback_rows(query.order_by(feedback_table.c.created_at))

    def feedback_totals(self, since: datetime | None = None) -> list[FeedbackTotal]:
        query = sa.select(feedback_daily).order_by(feedback_daily.c.day)
        if since is not None:
            query = query.where(feedback_daily.c.day >= since.astimezone(timezone.utc).date())
        with self._transaction() as conn:
            rows = conn.execute(query).all()
        # `r.count` would read as the tuple method to a type checker: the column by name instead.
        return [FeedbackTotal(r.day, r.platform, r.section, r.value, r._mapping["count"]) for r in rows]

    def answer(self, answer_id: str) -> AnswerRecord | None:
        """The question-log line of one answer (who was given it, on which platform), or None: never given, or purged."""
        query = sa.select(questions_table).where(questions_table.c.answer_id == answer_id)
        with self._transaction() as conn:
            r = conn.execute(query).first()
        if r is None:
            return None
        return AnswerRecord(
            answer_id=r.answer_id, platform=r.platform, question=r.question, answered=bool(r.answered), reason=r.reason,
            sections=r.sections, confidence=r.confidence, user_hash=r.user_hash, conversation_id=r.conversation_id,
            created_at=r.created_at,
        )

    def questions(self, since: datetime | None = None) -> list[AnswerRecord]:
        query = sa.select(questions_table).order_by(questions_table.c.created_at)
        if since is not None:
            query = query.where(questions_table.c.created_at >= since)
        with self._transaction() as conn:
            rows = conn.execute(query).all()
        return [
            AnswerRecord(
                answer_id=r.answer_id,
                platform=r.platform,
                question=r.question,
                answered=bool(r.answered),
                reason=r.reason,
                sections=r.sections,
                confidence=r.confidence,
                user_hash=r.user_hash,
                conversation_id=r.conversation_id,
                created_at=r.created_at,
            )
            for r in rows
        ]

    def _thread_id(self, thread_key: str) -> str:
        """A thread as stored: a keyed digest, since a console thread's key is the browser's session id."""
        return hash_user("thread", thread_key, self._member_key)

    def _hash_thread_keys_stored_in_clear(self) -> None:
        """Rows that versions before hashing wrote (keys like `console:<cookie>`, never 64 hex digits) are
        given their digest at start-up, a newer row for the same thread winning; idempotent, so replicas
        starting together, or an older replica still writing during a rolling deploy, are no harm."""
        in_clear = sa.or_(sa.func.length(threads.c.thread_key) != 64, threads.c.thread_key.contains(":"))
        with self._transaction() as conn:
            rows = conn.execute(sa.select(threads).where(in_clear)).all()
            if not rows:
                return
            hashed = [{**row._asdict(), "thread_key": self._thread_id(row.thread_key)} for row in rows]
            conn.execute(self._insert(threads).on_conflict_do_nothing(index_elements=["thread_key"]), hashed)
            conn.execute(sa.delete(threads).where(in_clear))

    def set_thread(self, thread_key: str, question: str, answer_id: str) -> None:
        row = {
            "thread_key": self._thread_id(thread_key),
            "question": stored_text(question, self._max_text_chars),
            "answer_id": answer_id,
            "updated_at": self._clock(),
        }
        with self._transaction() as conn:
            conn.execute(self._sql.remember_thread, row)

    def get_thread(self, thread_key: str) -> ThreadContext | None:
        with self._transaction() as conn:
            row = conn.execute(self._sql.thread, {"key": self._thread_id(thread_key)}).one_or_none()
        return None if row is None else ThreadContext(row.question, row.answer_id, row.updated_at)

    def purge(self, older_than: datetime) -> int:
        """Forget questions asked before `older_than`; return how many were deleted.

        Feedback goes with them (and any feedback given before the date): its
        comment is free text and its answer's question is gone. Each removed
        vote is first added to `feedback_daily`, counted per day, platform,
        section and value, so the report's 👍/👎 by section keeps its history.
        Thread contexts last touched before the date and expired claims go too
        (the work of a lapsed `claim_work` lease is kept a day for `unfinished`).
        The vote counting uses DELETE … RETURNING, so two replicas purging at
        once never count a vote twice.
        """
        old_answers = sa.select(questions_table.c.answer_id).where(
            questions_table.c.created_at < older_than
        )
        with self._transaction() as conn:
            removed = conn.execute(
                sa.delete(feedback_table)
                .where(
                    sa.or_(
                        feedback_table.c.created_at < older_than,
                        feedback_table.c.answer_id.in_(old_answers),
                    )
                )
                .returning(
                    feedback_table.c.answer_id,
                    feedback_table.c.platform,
                    feedback_table.c.value,
                    feedback_table.c.created_at,
                )
            ).all()
            self._count_removed_feedback(conn, removed)
            deleted = conn.execute(
                sa.delete(questions_table).where(questions_table.c.created_at < older_than)
            ).rowcount
            conn.execute(sa.delete(threads).where(threads.c.updated_at < older_than))
            conn.execute(sa.delete(claims).where(_sweepable(self._clock())))
        self._empty_write_ahead_log()
        return deleted

    def _empty_write_ahead_log(self) -> None:
        """On a SQLite file, copy the write-ahead log into the database and truncate it: the log still
        holds the purged rows as they were written, whatever `secure_delete` did to the database's pages."""
        if self._turns is None or self._in_memory:
            return
        with self._turns.turn(urgent=False):
            raw = self._engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = (cursor.fetchone() or (0,))[0]
                cursor.close()
            finally:
                raw.close()
        if busy:
            log.warning("purge: another process kept the write-ahead log busy; it is emptied at its next checkpoint")

    def _count_removed_feedback(self, conn: Connection, removed: Sequence[sa.Row[Any, Any, Any, Any]]) -> None:
        """`removed`: purge's RETURNING rows (answer_id, platform, value, created_at)."""
        answer_ids = sorted({row.answer_id for row in removed})
        sections: dict[str, tuple[str, ...]] = {}
        for chunk in _chunks(answer_ids):
            query = sa.select(questions_table.c.answer_id, questions_table.c.sections).where(
                questions_table.c.answer_id.in_(chunk)
            )
            sections.update({row.answer_id: row.sections for row in conn.execute(query)})
        totals = Counter(
            (row.created_at.date(), row.platform, section, row.value)
            for row in removed
            for section in (sections.get(row.answer_id) or (NO_SECTION,))
        )
        for (day, platform, section, value), count in totals.items():
            insert = self._insert(feedback_daily).values(
                day=day, platform=platform, section=section, value=value, count=count
            )
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["day", "platform", "section", "value"],
                    set_={"count": feedback_daily.c.count + insert.excluded.count},
                )
            )

    def current_schema_version(self) -> int:
        with self._transaction() as conn:
            return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0

    def ping(self) -> bool:
        """Readiness: can this replica reach its database right now?"""
        try:
            with self._transaction(urgent=True) as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as error:
            log.warning("state store unreachable: %s", error)
            return False
        return True

    def close(self) -> None:
        with self._lease_ready:
            self._closed = True
            self._lease_ready.notify()
            writer = self._lease_writer
        if writer is not None and writer is not threading.current_thread():
            writer.join()  # after the leases already asked for
        self._engine.dispose()
