"""The question log as the staff dashboard's Guide page reads it: how often each section was quoted and
voted on, and the distinct questions members asked most recently (for a preview of a change).

`SqlStore` takes these methods from `SqlGuide`. The counts are GROUP BY queries over an answer's
sections unnested in SQL (`json_each` on SQLite, `json_array_elements_text` on PostgreSQL), as the
overview counts votes; votes whose questions were purged count from the daily totals they left.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from bot.store.schema import feedback, feedback_daily, questions


class SqlGuide:
    """The Guide page's part of `SqlStore` (which supplies the transaction and the dialect)."""

    _is_postgres: bool

    def _transaction(self, urgent: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _answer_sections(self) -> Any:
        if self._is_postgres:
            return sa.func.json_array_elements_text(sa.cast(questions.c.sections, postgresql.JSON)).table_valued("value")
        return sa.func.json_each(questions.c.sections).table_valued("value")

    def section_activity(self) -> dict[str, dict[str, int]]:
        """By section label (`Source.label`): `quoted`, the answers that quoted it, and `up` / `down`, the votes
        on answers that quoted it, over the whole question log and the purged days' totals."""
        sections = self._answer_sections()
        activity: dict[str, dict[str, int]] = {}

        def add(label: str | None, key: str, count: Any) -> None:
            if label:
                row = activity.setdefault(str(label), {"quoted": 0, "up": 0, "down": 0})
                row[key] = row.get(key, 0) + int(count or 0)

        with self._transaction() as conn:
            quoted = conn.execute(
                sa.select(sections.c.value, sa.func.count())
                .select_from(questions)
                .join(sections, sa.true())
                .where(questions.c.answered)
                .group_by(sections.c.value)
            ).all()
            votes = conn.execute(
                sa.select(sections.c.value, feedback.c.value, sa.func.count())
                .select_from(feedback.join(questions, questions.c.answer_id == feedback.c.answer_id))
                .join(sections, sa.true())
                .group_by(sections.c.value, feedback.c.value)
            ).all()
            purged = conn.execute(
                sa.select(feedback_daily.c.section, feedback_daily.c.value, sa.func.sum(feedback_daily.c.count)).group_by(
                    feedback_daily.c.section, feedback_daily.c.value
                )
            ).all()
        for label, count in quoted:
            add(label, "quoted", count)
        for label, value, count in [*votes, *purged]:
            if value in ("up", "down"):
                add(label, value, count)
        return activity

    def recent_questions(self, limit: int, skip_reasons: Collection[str] = ("phi", "empty", "error")) -> list[str]:
        """The `limit` distinct questions asked most recently (already redacted when they were logged)."""
        last = sa.func.max(questions.c.created_at).label("last")
        with self._transaction() as conn:
            rows = conn.execute(
                sa.select(questions.c.question, last)
                .where(sa.or_(questions.c.reason.is_(None), questions.c.reason.not_in(list(skip_reasons))), questions.c.question != "")
                .group_by(questions.c.question)
                .order_by(last.desc())
                .limit(limit)
            ).all()
        return [str(question) for question, _ in rows]
