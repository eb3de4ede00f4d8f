"""Hand-offs in the state store: one row per member question handed to the program team.

`SqlStore` takes these methods from `SqlHandoffs`. Every write is one short transaction whose
correctness rests on the database, never on this process: one hand-off per answer (a unique
`answer_id`, ON CONFLICT DO NOTHING), a reply recorded once however often it is relayed (its key
is checked inside a transaction that holds the row), a reminder marked once (a conditional UPDATE).
Text arrives redacted (`bot.inbox.storable_text`); it is kept without control characters and cut
like every stored text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.handoff.model import Handoff, StaffPost, StaffReply
from bot.store.records import stored_text
from bot.store.schema import handoffs

MAX_NAME_CHARS = 200


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


class SqlHandoffs:
    """The `Handoffs` part of `SqlStore` (which supplies the transaction, the dialect's INSERT and the clock)."""

    _clock: Callable[[], datetime]
    _max_text_chars: int
    _is_postgres: bool

    def _transaction(self, urgent: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _insert(self, table: sa.Table) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------ writing

    def open_handoff(self, handoff: Handoff) -> tuple[Handoff, bool]:
        """Record `handoff` unless its answer was handed off before: (the stored hand-off, whether it is new).
        Its `id` and `created_at` are made here when empty."""
        row = {
            "handoff_id": handoff.id or _new_id(),
            "answer_id": handoff.answer_id,
            "question": stored_text(handoff.question, self._max_text_chars),
            "member_name": stored_text(handoff.member_name, MAX_NAME_CHARS),
            "member_platform": handoff.member_platform,
            "reply_to": json.dumps(dict(handoff.reply_to), ensure_ascii=False),
            "bot_answered": handoff.bot_answered,
            "bot_said": stored_text(handoff.bot_said, self._max_text_chars),
            "state": "open",
            "replies": "[]",
            "created_at": handoff.created_at or self._clock(),
        }
        insert = self._insert(handoffs).on_conflict_do_nothing(index_elements=["answer_id"]).returning(handoffs.c.handoff_id)
        with self._transaction(urgent=True) as conn:
            created = conn.execute(insert, row).first() is not None
            stored = conn.execute(sa.select(handoffs).where(handoffs.c.answer_id == handoff.answer_id)).one()
        return _handoff(stored), created

    def set_staff_post(self, handoff_id: str, post: StaffPost) -> None:
        values = {"staff_post_key": post.key, "staff_post": json.dumps({"platform": post.platform, "key": post.key, "ref": dict(post.ref)})}
        with self._transaction() as conn:
            conn.execute(sa.update(handoffs).where(handoffs.c.handoff_id == handoff_id).values(**values))

    def add_handoff_reply(self, handoff_id: str, reply: StaffReply) -> tuple[Handoff, int] | None:
        """Record a staff reply (once per `reply.key`) and mark the hand-off answered: the hand-off and the
        reply's 1-based number among its replies; None when there is no such hand-off (purged)."""
        select = sa.select(handoffs).where(handoffs.c.handoff_id == handoff_id)
        with self._transaction() as conn:
            row = conn.execute(select.with_for_update() if self._is_postgres else select).first()
            if row is None:
                return None
            replies = json.loads(row.replies or "[]")
            keys = [r["key"] for r in replies]
            if reply.key in keys:
                return _handoff(row), keys.index(reply.key) + 1
            replies.append(
                {"key": reply.key, "who": stored_text(reply.who, MAX_NAME_CHARS), "at": reply.at.isoformat(), "text": stored_text(reply.text, self._max_text_chars)}
            )
            state = row.state if row.state == "published" else "answered"
            conn.execute(
                sa.update(handoffs).where(handoffs.c.handoff_id == handoff_id).values(replies=json.dumps(replies, ensure_ascii=False), state=state)
            )
            updated = conn.execute(select).one()
        return _handoff(updated), len(replies)

    def mark_reminded(self, handoff_id: str) -> bool:
        """Note the hand-off's one reminder: True the first time only, on any replica."""
        update = sa.update(handoffs).where(handoffs.c.handoff_id == handoff_id, handoffs.c.reminded_at.is_(None))
        with self._transaction() as conn:
            return bool(conn.execute(update.values(reminded_at=self._clock())).rowcount)

    def mark_published(self, handoff_id: str, title: str) -> None:
        values = {"state": "published", "published_title": stored_text(title, self._max_text_chars), "published_at": self._clock()}
        with self._transaction() as conn:
            conn.execute(sa.update(handoffs).where(handoffs.c.handoff_id == handoff_id).values(**values))

    # ------------------------------------------------------------ reading

    def handoff(self, handoff_id: str) -> Handoff | None:
        return self._one(handoffs.c.handoff_id == handoff_id)

    def handoff_for_answer(self, answer_id: str) -> Handoff | None:
        return self._one(handoffs.c.answer_id == answer_id)

    def handoff_for_post(self, staff_post_key: str) -> Handoff | None:
        """The hand-off whose staff post is `staff_post_key`: how a staff reply finds what it answers."""
        return self._one(handoffs.c.staff_post_key == staff_post_key)

    def handoffs(self, *, open_only: bool = False) -> list[Handoff]:
        """Every hand-off (or the open ones), oldest first."""
        query = sa.select(handoffs).order_by(handoffs.c.created_at)
        if open_only:
            query = query.where(handoffs.c.state == "open")
        with self._transaction() as conn:
            return [_handoff(row) for row in conn.execute(query)]

    def handoff_queue(self, state: str, limit: int) -> list[Handoff]:
        """At most `limit` hand-offs in `state`: the open ones oldest first (the longest wait on top), the
        answered and published ones newest first."""
        order = handoffs.c.created_at if state == "open" else handoffs.c.created_at.desc()
        query = sa.select(handoffs).where(handoffs.c.state == state).order_by(order).limit(limit)
        with self._transaction() as conn:
            return [_handoff(row) for row in conn.execute(query)]

    def handoff_counts(self) -> dict[str, int]:
        """How many hand-offs are in each state."""
        with self._transaction() as conn:
            rows = conn.execute(sa.select(handoffs.c.state, sa.func.count()).group_by(handoffs.c.state)).all()
        return {str(state): int(n) for state, n in rows}

    def handoffs_to_remind(self, opened_before: datetime) -> list[Handoff]:
        """Open hand-offs, posted, opened before `opened_before` and never reminded of."""
        query = sa.select(handoffs).where(
            handoffs.c.state == "open",
            handoffs.c.reminded_at.is_(None),
            handoffs.c.staff_post_key.is_not(None),
            handoffs.c.created_at < opened_before,
        )
        with self._transaction() as conn:
            return [_handoff(row) for row in conn.execute(query.order_by(handoffs.c.created_at).limit(50))]

    def handoffs_unposted(self, opened_before: datetime) -> list[Handoff]:
        """Hand-offs opened before `opened_before` that still have no staff post (their replica stopped
        between recording the hand-off and leasing its post)."""
        query = sa.select(handoffs).where(handoffs.c.staff_post_key.is_(None), handoffs.c.created_at < opened_before)
        with self._transaction() as conn:
            return [_handoff(row) for row in conn.execute(query.order_by(handoffs.c.created_at).limit(50))]

    def _one(self, where: sa.ColumnElement[bool]) -> Handoff | None:
        with self._transaction() as conn:
            row = conn.execute(sa.select(handoffs).where(where)).first()
        return None if row is None else _handoff(row)


def _replies(raw: str | None) -> Iterator[StaffReply]:
    for r in json.loads(raw or "[]"):
        yield StaffReply(key=r["key"], who=r["who"], text=r["text"], at=datetime.fromisoformat(r["at"]))


def _handoff(row: sa.Row[Any]) -> Handoff:
    post = json.loads(row.staff_post) if row.staff_post else None
    return Handoff(
        id=row.handoff_id,
        answer_id=row.answer_id,
        question=row.question,
        member_name=row.member_name,
        member_platform=row.member_platform,
        reply_to=json.loads(row.reply_to),
        bot_answered=bool(row.bot_answered),
        bot_said=row.bot_said,
        state=row.state,
        staff_post=StaffPost(post["platform"], post["key"], post.get("ref") or {}) if post else None,
        replies=tuple(_replies(row.replies)),
        reminded_at=row.reminded_at,
        created_at=row.created_at,
        published_title=row.published_title,
        published_at=row.published_at,
    )
