"""Program staff in the state store: accounts, invites, sessions, the audit log, and the dashboard's counts.

`SqlStore` takes these methods from `SqlStaff`. Tokens arrive here already hashed (`bot.staff`
makes them and keeps only their SHA-256), so a copy of the database signs nobody in. An invite is
used once: the UPDATE that marks it used is conditional on it being unused and unexpired, so two
clicks at once make one session. The overview's numbers are GROUP BY queries on the question log,
the votes and the hand-offs, the same SQL on SQLite and PostgreSQL but for the day of a timestamp
and the unnesting of an answer's sections.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from bot.store.records import NO_SECTION
from bot.store.schema import (
    feedback,
    feedback_daily,
    handoffs,
    questions,
    staff_accounts,
    staff_audit,
    staff_invites,
    staff_sessions,
)

MAX_DETAIL_CHARS = 300


def _day(value: Any) -> str:
    """A day as `YYYY-MM-DD`, whether the driver returned a date (PostgreSQL) or text (SQLite)."""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


class SqlStaff:
    """The staff part of `SqlStore` (which supplies the transaction, the dialect's INSERT and the clock)."""

    _clock: Callable[[], datetime]
    _is_postgres: bool

    def _transaction(self, urgent: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _insert(self, table: sa.Table) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------ accounts and invites

    def add_staff_invite(self, email: str, token_hash: str, expires_at: datetime) -> None:
        """Make `email` a staff member (again, if revoked) and record an invite for it."""
        now = self._clock()
        with self._transaction() as conn:
            conn.execute(
                self._insert(staff_accounts)
                .values(email=email, created_at=now)
                .on_conflict_do_update(index_elements=["email"], set_={"revoked_at": None})
            )
            conn.execute(
                sa.insert(staff_invites).values(token_hash=token_hash, email=email, expires_at=expires_at, created_at=now)
            )

    def use_staff_invite(self, token_hash: str, session_hash: str, session_expires_at: datetime) -> str | None:
        """Spend an unused, unexpired invite of a member not revoked, opening a session: its e-mail, or None."""
        now = self._clock()
        with self._transaction(urgent=True) as conn:
            email = conn.execute(
                sa.update(staff_invites)
                .where(
                    staff_invites.c.token_hash == token_hash,
                    staff_invites.c.used_at.is_(None),
                    staff_invites.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(staff_invites.c.email)
            ).scalar()
            if email is None:
                return None
            active = conn.execute(
                sa.select(staff_accounts.c.email).where(staff_accounts.c.email == email, staff_accounts.c.revoked_at.is_(None))
            ).scalar()
            if active is None:
                return None
            conn.execute(
                sa.insert(staff_sessions).values(
                    token_hash=session_hash, email=email, expires_at=session_expires_at, created_at=now
                )
            )
            conn.execute(sa.update(staff_accounts).where(staff_accounts.c.email == email).values(last_sign_in_at=now))
        return str(email)

    def open_staff_session(self, email: str, session_hash: str, expires_at: datetime, *, add: bool) -> str:
        """Open a session for `email`, whom a provider vouched for (single sign-on): "existing" for a staff
        member, "added" when `add` made them one; "revoked" or "unknown" (not staff, `add` false) open none."""
        now = self._clock()
        with self._transaction(urgent=True) as conn:
            account = conn.execute(sa.select(staff_accounts.c.revoked_at).where(staff_accounts.c.email == email)).first()
            if account is not None and account.revoked_at is not None:
                return "revoked"
            if account is None and not add:
                return "unknown"
            if account is None:
                conn.execute(self._insert(staff_accounts).values(email=email, created_at=now).on_conflict_do_nothing(index_elements=["email"]))
            conn.execute(sa.insert(staff_sessions).values(token_hash=session_hash, email=email, expires_at=expires_at, created_at=now))
            conn.execute(sa.update(staff_accounts).where(staff_accounts.c.email == email).values(last_sign_in_at=now))
        return "existing" if account is not None else "added"

    def staff_for_session(self, session_hash: str) -> str | None:
        """The e-mail of the staff member whose live session this is, or None."""
        now = self._clock()
        with self._transaction(urgent=True) as conn:
            return conn.execute(
                sa.select(staff_sessions.c.email)
                .join(staff_accounts, staff_accounts.c.email == staff_sessions.c.email)
                .where(
                    staff_sessions.c.token_hash == session_hash,
                    staff_sessions.c.expires_at > now,
                    staff_accounts.c.revoked_at.is_(None),
                )
            ).scalar()

    def end_staff_session(self, session_hash: str) -> None:
        with self._transaction() as conn:
            conn.execute(sa.delete(staff_sessions).where(staff_sessions.c.token_hash == session_hash))

    def revoke_staff(self, email: str) -> bool:
        """Revoke `email`: its sessions and unused invites end. False when there is no such (active) member."""
        now = self._clock()
        with self._transaction() as conn:
            revoked = conn.execute(
                sa.update(staff_accounts)
                .where(staff_accounts.c.email == email, staff_accounts.c.revoked_at.is_(None))
                .values(revoked_at=now)
                .returning(staff_accounts.c.email)
            ).first()
            conn.execute(sa.delete(staff_sessions).where(staff_sessions.c.email == email))
            conn.execute(sa.delete(staff_invites).where(staff_invites.c.email == email, staff_invites.c.used_at.is_(None)))
        return revoked is not None

    def list_staff(self) -> list[dict[str, Any]]:
        with self._transaction() as conn:
            rows = conn.execute(sa.select(staff_accounts).order_by(staff_accounts.c.email)).mappings().all()
        return [dict(row) for row in rows]

    # ------------------------------------------------------------ audit log

    def audit(self, who: str, action: str, detail: str = "") -> None:
        with self._transaction() as conn:
            conn.execute(
                sa.insert(staff_audit).values(at=self._clock(), who=who, action=action, detail=detail[:MAX_DETAIL_CHARS])
            )

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._transaction() as conn:
            rows = conn.execute(
                sa.select(staff_audit.c.at, staff_audit.c.who, staff_audit.c.action, staff_audit.c.detail)
                .order_by(staff_audit.c.id.desc())
                .limit(limit)
            ).mappings().all()
        return [dict(row) for row in rows]

    # ------------------------------------------------------------ the overview's numbers

    def _day_of(self, column: Any) -> Any:
        return sa.cast(column, sa.Date) if self._is_postgres else sa.func.date(column)

    def overview_counts(self, since: datetime) -> dict[str, list[dict[str, Any]]]:
        """Questions and answers per day and platform, votes per section, hand-offs per day, since `since`."""
        with self._transaction() as conn:
            return {
                "questions": self._questions_per_day(conn, since),
                "votes": self._votes_per_section(conn, since),
                "handoffs": self._handoffs_per_day(conn, since),
            }

    def _questions_per_day(self, conn: Connection, since: datetime) -> list[dict[str, Any]]:
        day = self._day_of(questions.c.created_at).label("day")
        answered = sa.func.sum(sa.case((questions.c.answered, 1), else_=0)).label("answered")
        rows = conn.execute(
            sa.select(day, questions.c.platform, sa.func.count().label("asked"), answered)
            .where(questions.c.created_at >= since)
            .group_by(day, questions.c.platform)
            .order_by(day, questions.c.platform)
        ).all()
        return [{"day": _day(d), "platform": p, "asked": int(n), "answered": int(a or 0)} for d, p, n, a in rows]

    def _sections_of(self) -> Any:
        """An answer's sections as a table-valued function of `questions.sections`, one row per section."""
        if self._is_postgres:
            return sa.func.json_array_elements_text(sa.cast(questions.c.sections, postgresql.JSON)).table_valued("value")
        return sa.func.json_each(questions.c.sections).table_valued("value")

    def _votes_per_section(self, conn: Connection, since: datetime) -> list[dict[str, Any]]:
        """A vote counts for every section its answer quoted, as `guidebot report` counts it; votes whose
        questions were purged count from the daily totals they left."""
        votes: dict[tuple[str, str], int] = {}

        def add(rows: Any) -> None:
            for section, value, count in rows:
                key = (section or NO_SECTION, value)
                votes[key] = votes.get(key, 0) + int(count)

        sections = self._sections_of()
        add(
            conn.execute(
                sa.select(sections.c.value, feedback.c.value, sa.func.count())
                .select_from(feedback.join(questions, questions.c.answer_id == feedback.c.answer_id))
                .join(sections, sa.true())
                .where(feedback.c.created_at >= since)
                .group_by(sections.c.value, feedback.c.value)
            ).all()
        )
        add(
            conn.execute(
                sa.select(sa.literal(NO_SECTION), feedback.c.value, sa.func.count())
                .select_from(feedback.join(questions, questions.c.answer_id == feedback.c.answer_id))
                .where(feedback.c.created_at >= since, sa.or_(questions.c.sections == "[]", questions.c.sections == ""))
                .group_by(feedback.c.value)
            ).all()
        )
        add(
            conn.execute(
                sa.select(feedback_daily.c.section, feedback_daily.c.value, sa.func.sum(feedback_daily.c.count))
                .where(feedback_daily.c.day >= since.date())
                .group_by(feedback_daily.c.section, feedback_daily.c.value)
            ).all()
        )
        by_section: dict[str, dict[str, int]] = {}
        for (section, value), count in votes.items():
            by_section.setdefault(section, {"up": 0, "down": 0})[value] = count
        rows = [{"section": s, "up": v.get("up", 0), "down": v.get("down", 0)} for s, v in by_section.items()]
        return sorted(rows, key=lambda r: (-(r["up"] + r["down"]), -r["down"], r["section"]))

    def unanswered_wordings(self, since: datetime, skip_reasons: Collection[str], limit: int) -> tuple[int, int, list[tuple[str, int]]]:
        """The period's unanswered questions (but those refused for `skip_reasons`): how many, how many distinct
        texts, and the `limit` most asked texts with their counts. One GROUP BY on the text; only its rows (one
        per distinct text, never a question twice) come back. A period reaching back past the oldest question
        (a year, with the log purged sooner) reads the log whole: SQLite would otherwise go through the
        `created_at` index and look up every row of it, 3–4× slower than one pass over the table."""
        asked = sa.func.count().label("asked")
        query = (
            sa.select(questions.c.question, asked)
            .where(
                sa.not_(questions.c.answered),
                sa.or_(questions.c.reason.is_(None), questions.c.reason.not_in(list(skip_reasons))),
            )
            .group_by(questions.c.question)
            .order_by(asked.desc(), questions.c.question)
        )
        with self._transaction() as conn:
            oldest = conn.execute(sa.select(sa.func.min(questions.c.created_at))).scalar()
            if oldest is not None and oldest < since:
                query = query.where(questions.c.created_at >= since)
            rows = conn.execute(query).all()
        return sum(int(n) for _, n in rows), len(rows), [(str(text), int(n)) for text, n in rows[:limit]]

    def _handoffs_per_day(self, conn: Connection, since: datetime) -> list[dict[str, Any]]:
        day = self._day_of(handoffs.c.created_at).label("day")
        answered = sa.func.sum(sa.case((handoffs.c.state != "open", 1), else_=0)).label("answered")
        rows = conn.execute(
            sa.select(day, sa.func.count().label("opened"), answered)
            .where(handoffs.c.created_at >= since)
            .group_by(day)
            .order_by(day)
        ).all()
        return [{"day": _day(d), "opened": int(n), "answered": int(a or 0)} for d, n, a in rows]
