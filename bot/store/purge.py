"""Forgetting what passed the retention period, keeping only counts of the feedback that went with it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.records import NO_SECTION
from bot.store.schema import claims, feedback, feedback_daily, handoffs, message_links, questions, threads
from bot.store.statements import sweepable

_IN_CHUNK = 500


def purge_older_than(conn: Connection, insert: Callable[[sa.Table], Any], older_than: datetime, now: datetime) -> int:
    """Forget questions asked before `older_than`, in `conn`'s transaction; return how many were deleted.

    Feedback goes with them (and any feedback given before the date): its comment is free text
    and its answer's question is gone. Each removed vote is first added to `feedback_daily`,
    counted per day, platform, section and value, so the report's 👍/👎 by section keeps its
    history. Links from sent messages to the purged answers go, as do links and thread contexts
    made before the date, hand-offs to the program team (their questions, names and replies)
    opened before it or handing off a purged answer, and expired claims (the work of a lapsed
    `claim_work` lease is kept a day for `unfinished`). The vote counting uses DELETE … RETURNING, so two replicas purging at
    once never count a vote twice.
    """
    old_answers = sa.select(questions.c.answer_id).where(questions.c.created_at < older_than)
    removed = conn.execute(
        sa.delete(feedback)
        .where(sa.or_(feedback.c.created_at < older_than, feedback.c.answer_id.in_(old_answers)))
        .returning(feedback.c.answer_id, feedback.c.platform, feedback.c.value, feedback.c.created_at)
    ).all()
    _count_removed_feedback(conn, insert, removed)
    conn.execute(
        sa.delete(message_links).where(
            sa.or_(message_links.c.created_at < older_than, message_links.c.answer_id.in_(old_answers))
        )
    )
    conn.execute(sa.delete(handoffs).where(sa.or_(handoffs.c.created_at < older_than, handoffs.c.answer_id.in_(old_answers))))
    deleted = conn.execute(sa.delete(questions).where(questions.c.created_at < older_than)).rowcount
    conn.execute(sa.delete(threads).where(threads.c.updated_at < older_than))
    conn.execute(sa.delete(claims).where(sweepable(now)))
    return deleted


def _count_removed_feedback(
    conn: Connection, insert: Callable[[sa.Table], Any], removed: Sequence[sa.Row[Any, Any, Any, Any]]
) -> None:
    """`removed`: purge's RETURNING rows (answer_id, platform, value, created_at)."""
    answer_ids = sorted({row.answer_id for row in removed})
    sections: dict[str, tuple[str, ...]] = {}
    for chunk in _chunks(answer_ids):
        query = sa.select(questions.c.answer_id, questions.c.sections).where(questions.c.answer_id.in_(chunk))
        sections.update({row.answer_id: row.sections for row in conn.execute(query)})
    totals = Counter(
        (row.created_at.date(), row.platform, section, row.value)
        for row in removed
        for section in (sections.get(row.answer_id) or (NO_SECTION,))
    )
    for (day, platform, section, value), count in totals.items():
        counted = insert(feedback_daily).values(day=day, platform=platform, section=section, value=value, count=count)
        conn.execute(
            counted.on_conflict_do_update(
                index_elements=["day", "platform", "section", "value"],
                set_={"count": feedback_daily.c.count + counted.excluded.count},
            )
        )


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
