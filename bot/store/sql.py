"""`SqlStore`: the state store on SQLite (one server) or PostgreSQL (many replicas), through SQLAlchemy Core.

Replicas share nothing but the database, so every operation is one short transaction whose
correctness rests on primary keys and ON CONFLICT, never on a lock held in this process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from bot.store.purge import purge_older_than
from bot.store.database import checkpoint_write_ahead_log, create_engine
from bot.store.handoffs import SqlHandoffs
from bot.store.staff import SqlStaff
from bot.store.guide import SqlGuide
from bot.store.records import (
    DEFAULT_MAX_TEXT_CHARS,
    FEEDBACK_VALUES,
    AnswerRecord,
    ClaimResult,
    FeedbackRecord,
    FeedbackTotal,
    ThreadContext,
    UnfinishedWork,
    hash_user,
    stored_text,
    utc_now,
)
from bot.store.schema import (
    MEMBER_KEY,
    MESSAGE_LINKS_VERSION,
    claims,
    conversation_refs,
    current_version,
    feedback,
    feedback_daily,
    message_links,
    migrate,
    questions,
    store_secrets,
    threads,
)
from bot.store.statements import Statements, lease_many, sweepable
from bot.store.writer import LeaseRequest, LeaseWriter, Turns

log = logging.getLogger(__name__)

_SWEEP_EVERY_N_CLAIMS = 256


class SqlStore(SqlHandoffs, SqlStaff, SqlGuide):
    """`StateStore` on SQLite or PostgreSQL (its hand-offs from `SqlHandoffs`, its staff from `SqlStaff`).

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
        self._engine, self._in_memory = create_engine(url)
        self._max_text_chars = max_text_chars
        # On SQLite (each transaction begins IMMEDIATE, and an in-memory database is one connection
        # shared by all threads) this process's threads queue in `Turns`; see `bot.store.writer`.
        self._turns = Turns() if self._engine.dialect.name == "sqlite" else None
        self._lease_writer = LeaseWriter(self._write_leases) if self._turns is not None else None
        self._clock = clock
        self._claims = itertools.count(1)
        self._is_postgres = self._engine.dialect.name == "postgresql"
        self._sql = Statements.build(self._insert)
        found = migrate(self._engine, clock())
        self._member_key = (member_key or self._stored_member_key()).encode()
        self._hash_keys_stored_in_clear(threads.c.thread_key)
        if found < MESSAGE_LINKS_VERSION:
            self._hash_keys_stored_in_clear(message_links.c.message_key)

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

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _transaction(self, urgent: bool = False) -> Iterator[Connection]:
        """One transaction; `urgent` when a platform waits on it (see `Turns`)."""
        with self._turns.turn(urgent) if self._turns else nullcontext(), self._engine.begin() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self._is_postgres else sqlite.insert)(table)

    # --- leases ---------------------------------------------------------------------

    def claim(self, key: str, ttl_seconds: int = 86400) -> bool:
        now = self._clock()
        with self._transaction(urgent=True) as conn:
            conn.execute(self._sql.drop_expired_claim, {"key": key, "now": now})
            # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT.
            inserted = conn.execute(
                self._sql.new_claim, {"claim_key": key, "expires_at": now + timedelta(seconds=ttl_seconds)}
            ).first()
            if next(self._claims) % _SWEEP_EVERY_N_CLAIMS == 0:
                conn.execute(sa.delete(claims).where(sweepable(now)))
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
        request = LeaseRequest(key, lease_seconds, work)
        if self._lease_writer is None:
            with self._transaction(urgent=True) as conn:
                return lease_many(conn, self._sql, [request], self._clock())[0]
        return self._lease_writer.submit(request).result()

    async def claim_work_async(self, key: str, *, lease_seconds: int, work: str | None = None) -> ClaimResult:
        """`claim_work` for an event loop: on SQLite the loop waits for the lease writer itself.

        An ack waits on its lease; handing the wait to a thread first cost it two
        hand-overs between threads, each a wait for the GIL under load.
        """
        if self._lease_writer is None:
            return await asyncio.to_thread(self.claim_work, key, lease_seconds=lease_seconds, work=work)
        leased: Future[ClaimResult] = self._lease_writer.submit(LeaseRequest(key, lease_seconds, work))
        return await asyncio.wrap_future(leased)

    def _write_leases(self, batch: list[LeaseRequest]) -> list[ClaimResult]:
        assert self._turns is not None
        with self._turns.turn(urgent=True), self._engine.begin() as conn:
            return lease_many(conn, self._sql, batch, self._clock())

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

    # --- question log -----------------------------------------------------------------

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

    def answer(self, answer_id: str) -> AnswerRecord | None:
        """The question-log line of one answer (who was given it, on which platform), or None: never given, or purged."""
        with self._transaction() as conn:
            row = conn.execute(sa.select(questions).where(questions.c.answer_id == answer_id)).first()
        return None if row is None else _answer_record(row)

    def questions(self, since: datetime | None = None) -> list[AnswerRecord]:
        query = sa.select(questions).order_by(questions.c.created_at)
        if since is not None:
            query = query.where(questions.c.created_at >= since)
        with self._transaction() as conn:
            rows = conn.execute(query).all()
        return [_answer_record(row) for row in rows]

    def purge(self, older_than: datetime) -> int:
        """Forget what passed `older_than` (see `purge_older_than`); on a SQLite file, also empty the
        write-ahead log, which still holds the purged rows as they were written."""
        with self._transaction() as conn:
            deleted = purge_older_than(conn, self._insert, older_than, self._clock())
        if self._turns is not None and not self._in_memory:
            with self._turns.turn(urgent=False):
                emptied = checkpoint_write_ahead_log(self._engine)
            if not emptied:
                log.warning("purge: another process kept the write-ahead log busy; it is emptied at its next checkpoint")
        return deleted

    # --- feedback -----------------------------------------------------------------------

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

    def _feedback_rows(self, where: sa.ColumnElement[bool] | None = None) -> list[FeedbackRecord]:
        """Votes with the sections their answer quoted (none once the answer is purged), oldest first."""
        query = sa.select(feedback, questions.c.sections).select_from(
            feedback.outerjoin(questions, questions.c.answer_id == feedback.c.answer_id)
        )
        if where is not None:
            query = query.where(where)
        with self._transaction() as conn:
            rows = conn.execute(query.order_by(feedback.c.created_at)).all()
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
        return self._feedback_rows(feedback.c.answer_id == answer_id)

    def feedback(self, since: datetime | None = None) -> list[FeedbackRecord]:
        return self._feedback_rows(None if since is None else feedback.c.created_at >= since)

    def feedback_totals(self, since: datetime | None = None) -> list[FeedbackTotal]:
        query = sa.select(feedback_daily).order_by(feedback_daily.c.day)
        if since is not None:
            query = query.where(feedback_daily.c.day >= since.astimezone(timezone.utc).date())
        with self._transaction() as conn:
            rows = conn.execute(query).all()
        # `r.count` would read as the tuple method to a type checker: the column by name instead.
        return [FeedbackTotal(r.day, r.platform, r.section, r.value, r._mapping["count"]) for r in rows]

    # --- conversations ------------------------------------------------------------------

    def member_hash(self, platform: str, user_id: str) -> str:
        """A member's id as the store keeps it: with `GUIDEBOT_MEMBER_ID_KEY`, or the database's own key."""
        return hash_user(platform, user_id, self._member_key)

    def _key_digest(self, key: str) -> str:
        """A thread or message key as stored: a keyed digest, since a console thread's key is the browser's
        session id, and a message key names a conversation."""
        return hash_user("thread", key, self._member_key)

    def _hash_keys_stored_in_clear(self, key: sa.Column[str]) -> None:
        """Rows that versions before hashing wrote (keys like `console:<cookie>`, never 64 hex digits) are
        given their digest at start-up, a newer row for the same key winning; idempotent, so replicas
        starting together, or an older replica still writing during a rolling deploy, are no harm."""
        table = key.table
        assert isinstance(table, sa.Table)
        in_clear = sa.or_(sa.func.length(key) != 64, key.contains(":"))
        with self._transaction() as conn:
            rows = conn.execute(sa.select(table).where(in_clear)).all()
            if not rows:
                return
            hashed = [{**row._asdict(), key.name: self._key_digest(getattr(row, key.name))} for row in rows]
            conn.execute(self._insert(table).on_conflict_do_nothing(index_elements=[key.name]), hashed)
            conn.execute(sa.delete(table).where(in_clear))

    def set_thread(self, thread_key: str, question: str, answer_id: str) -> None:
        row = {
            "thread_key": self._key_digest(thread_key),
            "question": stored_text(question, self._max_text_chars),
            "answer_id": answer_id,
            "updated_at": self._clock(),
        }
        with self._transaction() as conn:
            conn.execute(self._sql.remember_thread, row)

    def get_thread(self, thread_key: str) -> ThreadContext | None:
        with self._transaction() as conn:
            row = conn.execute(self._sql.thread, {"key": self._key_digest(thread_key)}).one_or_none()
        return None if row is None else ThreadContext(row.question, row.answer_id, row.updated_at)

    def link_message(self, message_key: str, answer_id: str) -> None:
        """File that the message the bot sent under `message_key` carries `answer_id`, so a vote that
        points at the message (Teams' `replyToId`) finds its answer. A second link for the same message
        (a retried delivery) keeps the first."""
        row = {"message_key": self._key_digest(message_key), "answer_id": answer_id, "created_at": self._clock()}
        with self._transaction() as conn:
            conn.execute(self._sql.link_message, row)

    def answer_for_message(self, message_key: str) -> str | None:
        """The answer the message sent under `message_key` carries; None if never linked, or purged."""
        with self._transaction() as conn:
            found = conn.execute(self._sql.message_answer, {"key": self._key_digest(message_key)}).scalar()
        return None if found is None else str(found)

    def remember_conversation(self, key: str, ref: dict[str, Any]) -> None:
        """Keep where the bot may post unprompted in the conversation `key` (`teams:<id>`), replacing what
        was kept; written only when it changed, so calling it for every activity seen there is cheap."""
        value = json.dumps(ref, sort_keys=True, ensure_ascii=False)
        with self._transaction() as conn:
            kept = conn.execute(sa.select(conversation_refs.c.ref).where(conversation_refs.c.conversation_key == key)).scalar()
            if kept == value:
                return
            row = {"conversation_key": key, "ref": value, "updated_at": self._clock()}
            upsert = self._insert(conversation_refs).on_conflict_do_update(
                index_elements=["conversation_key"], set_={"ref": value, "updated_at": row["updated_at"]}
            )
            conn.execute(upsert, row)

    def conversation_ref(self, key: str) -> dict[str, Any] | None:
        """What `remember_conversation` kept for `key`, or None."""
        with self._transaction() as conn:
            found = conn.execute(sa.select(conversation_refs.c.ref).where(conversation_refs.c.conversation_key == key)).scalar()
        ref = json.loads(found) if found else None
        return ref if isinstance(ref, dict) else None

    # --- the database itself ---------------------------------------------------------------

    def current_schema_version(self) -> int:
        with self._transaction() as conn:
            return current_version(conn)

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
        if self._lease_writer is not None:
            self._lease_writer.close()  # after the leases already asked for
        self._engine.dispose()


def _answer_record(row: sa.Row[Any]) -> AnswerRecord:
    return AnswerRecord(
        answer_id=row.answer_id,
        platform=row.platform,
        question=row.question,
        answered=bool(row.answered),
        reason=row.reason,
        sections=row.sections,
        confidence=row.confidence,
        user_hash=row.user_hash,
        conversation_id=row.conversation_id,
        created_at=row.created_at,
    )
