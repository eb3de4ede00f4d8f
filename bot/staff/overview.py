"""The dashboard's overview for a period: the store's grouped counts, laid out day by day.

The counting is the store's (GROUP BY in SQL, `Staff.overview_counts`); this module only fills the
days that had nothing with zeros, so every chart and table has one row per day of the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.store import Staff

PERIODS = (7, 30, 90, 365)
"""The periods the dashboard offers, in days (the last `days` days, today included, UTC)."""

NO_SECTION_LABEL = "(no section)"


@dataclass(frozen=True)
class DayCount:
    day: str
    asked: dict[str, int]
    answered: int

    @property
    def total(self) -> int:
        return sum(self.asked.values())

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.total if self.total else None


@dataclass(frozen=True)
class SectionVotes:
    section: str
    up: int
    down: int


@dataclass(frozen=True)
class HandoffDay:
    day: str
    opened: int
    answered: int


@dataclass(frozen=True)
class Overview:
    days: int
    first_day: str
    last_day: str
    platforms: tuple[str, ...]
    questions: tuple[DayCount, ...]
    votes: tuple[SectionVotes, ...]
    handoffs: tuple[HandoffDay, ...]

    @property
    def asked(self) -> int:
        return sum(day.total for day in self.questions)

    @property
    def answered(self) -> int:
        return sum(day.answered for day in self.questions)

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "from": self.first_day,
            "to": self.last_day,
            "platforms": list(self.platforms),
            "totals": {
                "asked": self.asked,
                "answered": self.answered,
                "handoffs_opened": sum(h.opened for h in self.handoffs),
                "handoffs_answered": sum(h.answered for h in self.handoffs),
            },
            "questions_per_day": [
                {"day": d.day, "by_platform": dict(d.asked), "asked": d.total, "answered": d.answered, "answer_rate": d.answer_rate}
                for d in self.questions
            ],
            "votes_by_section": [{"section": v.section, "up": v.up, "down": v.down} for v in self.votes],
            "handoffs_per_day": [{"day": h.day, "opened": h.opened, "answered": h.answered} for h in self.handoffs],
        }


def period_days(value: str | None) -> int:
    """`?days=` as one of `PERIODS`; anything else is the default, 30."""
    try:
        days = int(value or "")
    except ValueError:
        return 30
    return days if days in PERIODS else 30


def build_overview(store: Staff, days: int, now: datetime) -> Overview:
    last = now.date()
    first = last - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=now.tzinfo)
    counts = store.overview_counts(since)
    every_day = [(first + timedelta(days=n)).isoformat() for n in range(days)]

    platforms = tuple(sorted({row["platform"] for row in counts["questions"]}))
    asked: dict[str, dict[str, int]] = {day: dict.fromkeys(platforms, 0) for day in every_day}
    answered: dict[str, int] = dict.fromkeys(every_day, 0)
    for row in counts["questions"]:
        if row["day"] in asked:
            asked[row["day"]][row["platform"]] += row["asked"]
            answered[row["day"]] += row["answered"]
    handoffs = {day: [0, 0] for day in every_day}
    for row in counts["handoffs"]:
        if row["day"] in handoffs:
            handoffs[row["day"]] = [row["opened"], row["answered"]]
    return Overview(
        days=days,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        platforms=platforms,
        questions=tuple(DayCount(day, asked[day], answered[day]) for day in every_day),
        votes=tuple(SectionVotes(row["section"] or NO_SECTION_LABEL, row["up"], row["down"]) for row in counts["votes"]),
        handoffs=tuple(HandoffDay(day, *handoffs[day]) for day in every_day),
    )
