"""A year of members' questions for the staff dashboard, written straight into the store's tables.

`seed_year` opens the store (which creates or upgrades its tables), then inserts in one transaction
per table what a year of use leaves behind: questions on several platforms spread over the period,
about 30 % refused (most asked in a few hundred recurring wordings, some for patient details),
votes on answers that quoted one or two sections, and hand-offs in every state. It writes through
the store's own table definitions (`bot.store.schema`) with bulk inserts, so 100,000 questions take
seconds, where saving them one by one through `save_answer` (a durable commit each) would take
minutes. The rows come back as plain Python data, so a test can count them itself and compare.

`make bench` (`bench/dashboard.py`) times the dashboard on 100,000 of them; `tests/test_staff_bench.py`
checks the pages' numbers on a smaller year.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from bot.store import SqlStore, normalize_database_url
from bot.store.schema import feedback, handoffs, questions

PLATFORMS = ("slack", "teams", "console")
PLATFORM_SHARES = (0.5, 0.35, 0.15)
REFUSED_SHARE = 0.3
PHI_SHARE = 0.05
"""Of the refusals: questions with patient details, which the Unanswered page leaves out."""
VOTED_SHARE = 0.08
"""Of the answers: those a member voted on."""
HANDOFF_SHARE = 0.01
HANDOFF_STATES = ("open", "answered", "published")
HANDOFF_STATE_SHARES = (0.2, 0.5, 0.3)

_TOPICS = (
    "the weather in Boston", "parking at the hospital", "my pension plan", "a CMO's salary", "the cafeteria menu",
    "flu shots for staff", "the holiday schedule", "malpractice insurance", "the badge office", "night shift pay",
    "locum tenens contracts", "the board's bylaws", "conference travel refunds", "the EHR password reset",
    "child care on site", "the gym discount", "visa sponsorship", "the research grant deadline", "sabbatical leave",
    "the bonus formula", "a second opinion", "stock options", "the union vote", "the dress code",
)
_FORMS = (
    "What about {}?", "Can you tell me about {}?", "Where do I find {}?", "Who handles {}?", "Is there news on {}?",
    "How does {} work?", "what about {}", "Any update on {}?", "Where can I read about {}?", "Explain {} please",
    "I need help with {}.", "Quick question on {}", "Who decides {}?",
)
_SUFFIXES = ("", " Thanks.", " (asking for a colleague)", " today", " this year")
_SECTIONS = tuple(
    f"{document} › {section}"
    for document in ("Physician leadership roles", "Governance", "Compensation", "Career paths")
    for section in ("Overview", "Duties", "Reporting lines", "Selection", "Evaluation", "Pay", "Training", "Ethics")
)


@dataclass(frozen=True)
class SeededYear:
    """What `seed_year` wrote, as rows of the store's tables (aware UTC datetimes), and how long it took."""

    now: datetime
    days: int
    questions: list[dict[str, Any]]
    votes: list[dict[str, Any]]
    handoffs: list[dict[str, Any]]
    seconds: float

    @property
    def refused_wordings(self) -> int:
        return len({q["question"] for q in self.questions if not q["answered"]})


def refused_wordings(rng: random.Random, count: int) -> list[str]:
    """`count` distinct wordings of off-guide questions, the commonest first."""
    wordings = [form.format(topic) + suffix for suffix in _SUFFIXES for form in _FORMS for topic in _TOPICS]
    rng.shuffle(wordings)
    return wordings[:count]


def year_of_questions(n: int, now: datetime, *, days: int = 365, seed: int = 21, wordings: int = 1200) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` questions over the last `days` days up to `now` (the first day from midnight UTC), their votes
    and their hand-offs, as rows for `questions`, `feedback` and `handoffs`. Refused wordings are drawn with
    Zipf-like weights, so a few recur often and many are asked once or twice, as members ask."""
    rng = random.Random(seed)
    midnight = datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
    today = (now - midnight).total_seconds()
    pool = refused_wordings(rng, wordings)
    weights = [1 / (rank + 1) for rank in range(len(pool))]
    refused_texts = rng.choices(pool, weights, k=n)
    asked: list[dict[str, Any]] = []
    votes: list[dict[str, Any]] = []
    handed: list[dict[str, Any]] = []
    for i in range(n):
        day = rng.randrange(days)
        created = midnight - timedelta(days=day, seconds=-rng.uniform(0, today if day == 0 else 86400))
        refused = rng.random() < REFUSED_SHARE
        phi = refused and rng.random() < PHI_SHARE
        sections = () if refused else tuple(rng.sample(_SECTIONS, rng.choice((1, 1, 2))))
        answer_id = f"Y{seed}-{i:07d}"
        asked.append(
            {
                "answer_id": answer_id,
                "platform": rng.choices(PLATFORMS, PLATFORM_SHARES)[0],
                "question": "My patient [NAME] asks about " + rng.choice(_TOPICS) if phi else (refused_texts[i] if refused else f"What does section {sections[0]} say? #{i % 997}"),
                "answered": not refused,
                "reason": ("phi" if phi else "out_of_scope") if refused else None,
                "sections": sections,
                "confidence": 0.0 if refused else round(rng.uniform(0.5, 1.0), 3),
                "user_hash": f"member-{rng.randrange(2000):04d}",
                "conversation_id": None,
                "created_at": created,
            }
        )
        later = min(now, created + timedelta(minutes=rng.uniform(0, 30)))
        if not refused and rng.random() < VOTED_SHARE:
            votes.append(
                {
                    "answer_id": answer_id, "user_hash": asked[-1]["user_hash"], "platform": asked[-1]["platform"],
                    "value": "up" if rng.random() < 0.75 else "down", "comment": None, "created_at": later,
                }
            )
        if rng.random() < HANDOFF_SHARE:
            state = rng.choices(HANDOFF_STATES, HANDOFF_STATE_SHARES)[0]
            replies = [] if state == "open" else [{"key": f"seed:{i}", "who": "pat@example.org", "at": later.isoformat(), "text": "We will look into it."}]
            handed.append(
                {
                    "handoff_id": f"h{seed}x{i:07d}", "answer_id": answer_id, "question": asked[-1]["question"],
                    "member_name": f"Member {i % 500}", "member_platform": asked[-1]["platform"], "reply_to": json.dumps({"seeded": True}),
                    "bot_answered": not refused, "bot_said": "I could not find this in the guide." if refused else "From the guide: …",
                    "state": state, "staff_post_key": None, "staff_post": None, "replies": json.dumps(replies),
                    "reminded_at": None, "published_title": "Seeded answer" if state == "published" else None,
                    "published_at": later if state == "published" else None, "created_at": later,
                }
            )
    return asked, votes, handed


def seed_year(url: str, n: int, now: datetime, *, days: int = 365, seed: int = 21) -> SeededYear:
    """`year_of_questions` written into the store at `url` (created or upgraded first), one bulk insert per table."""
    asked, votes, handed = year_of_questions(n, now, days=days, seed=seed)
    started = time.perf_counter()
    SqlStore(url).close()
    engine = sa.create_engine(normalize_database_url(url))
    try:
        with engine.begin() as conn:
            for table, rows in ((questions, asked), (feedback, votes), (handoffs, handed)):
                for start in range(0, len(rows), 10_000):
                    conn.execute(sa.insert(table), rows[start : start + 10_000])
    finally:
        engine.dispose()
    return SeededYear(now, days, asked, votes, handed, time.perf_counter() - started)
