"""The staff dashboard on a seeded year (the one `make bench` times, smaller): over HTTP, the Overview, the
Unanswered page and the Hand-offs queue show the numbers a plain count over the seeded rows gives, on
SQLite and PostgreSQL; and the Unanswered page opened again (its vectors and sections kept in memory)
shows the same groups as the first time.

The year is `guidebot_testing.staff_year`: questions on three platforms over 365 days, about 30 %
refused in recurring wordings (some for patient details), votes on answers' sections, hand-offs in
every state, written with bulk inserts into the store's tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.report import NOT_GUIDE_GAPS
from bot.settings import Settings
from bot.staff.memo import TextMemo
from bot.staff.unanswered import GROUPED_WORDINGS
from conftest_store import database_url, postgres_schema_url  # noqa: F401 - fixtures
from guidebot_testing.staff_year import SeededYear, seed_year
from tests.test_staff_dashboard import Dashboard, dashboard_settings, start

QUESTIONS = 5_000


@pytest.fixture
async def year(
    guide_settings: Settings, guide_index: Any, embedder: Any, tmp_path: Path, database_url: str  # noqa: F811 - the fixture
) -> AsyncIterator[tuple[Dashboard, SeededYear]]:
    seeded = seed_year(database_url, QUESTIONS, datetime.now(timezone.utc))
    started = await start(dashboard_settings(guide_settings, tmp_path, database_url=database_url), embedder)
    yield started, seeded
    await started.client.close()
    started.guidebot.close()


def day(at: datetime) -> str:
    return at.astimezone(timezone.utc).date().isoformat()


async def test_the_overview_counts_a_year_as_python_does(year: tuple[Dashboard, SeededYear]) -> None:
    dashboard, seeded = year
    session, _ = await dashboard.sign_in()
    data = await (await dashboard.get("/staff/api/overview?days=365", session)).json()

    asked = Counter((day(q["created_at"]), q["platform"]) for q in seeded.questions)
    answered = Counter(day(q["created_at"]) for q in seeded.questions if q["answered"])
    assert data["totals"]["asked"] == QUESTIONS and data["totals"]["answered"] == sum(answered.values())
    assert data["platforms"] == ["console", "slack", "teams"]
    assert len(data["questions_per_day"]) == 365
    for row in data["questions_per_day"]:
        assert row["by_platform"] == {p: asked[(row["day"], p)] for p in data["platforms"]}, row["day"]
        assert row["answered"] == answered[row["day"]], row["day"]

    sections_of = {q["answer_id"]: q["sections"] for q in seeded.questions}
    votes: Counter[tuple[str, str]] = Counter((s, v["value"]) for v in seeded.votes for s in sections_of[v["answer_id"]])
    assert {(r["section"], "up"): r["up"] for r in data["votes_by_section"]} | {
        (r["section"], "down"): r["down"] for r in data["votes_by_section"]
    } == {(s, value): votes[(s, value)] for s in {s for s, _ in votes} for value in ("up", "down")}, "a vote counts for each section quoted"

    opened = Counter(day(h["created_at"]) for h in seeded.handoffs)
    handled = Counter(day(h["created_at"]) for h in seeded.handoffs if h["state"] != "open")
    assert [(r["day"], r["opened"], r["answered"]) for r in data["handoffs_per_day"] if r["opened"]] == sorted(
        (d, n, handled[d]) for d, n in opened.items()
    )
    assert data["totals"]["handoffs_opened"] == len(seeded.handoffs)

    week = await (await dashboard.get("/staff/api/overview?days=7", session)).json()
    first = (seeded.now.date() - timedelta(days=6)).isoformat()
    assert week["totals"]["asked"] == sum(n for (d, _), n in asked.items() if d >= first)
    page = await (await dashboard.get("/staff?days=365", session)).text()
    assert f"<dt>Questions</dt><dd>{QUESTIONS}</dd>" in page
    assert f"<dt>Answered</dt><dd>{sum(answered.values())} (" in page


async def test_the_unanswered_page_counts_a_year_as_python_does_and_again_the_same(year: tuple[Dashboard, SeededYear]) -> None:
    dashboard, seeded = year
    session, _ = await dashboard.sign_in()
    wordings = Counter(q["question"] for q in seeded.questions if not q["answered"] and q["reason"] not in NOT_GUIDE_GAPS)
    assert len(wordings) > GROUPED_WORDINGS, "the seeded year has more wordings than the page groups"

    first = await (await dashboard.get("/staff/api/unanswered?days=365", session)).json()
    assert (first["unanswered"], first["wordings"], first["grouped"], first["capped"]) == (
        sum(wordings.values()), len(wordings), GROUPED_WORDINGS, True
    )
    assert first["grouping"] == "embeddings"
    most_asked = sorted(wordings.values(), reverse=True)[:GROUPED_WORDINGS]
    if first["groups_not_shown"] == 0:
        assert sum(g["count"] for g in first["groups"]) == sum(most_asked), "every grouped question is in a group"
    assert first["groups"][0]["count"] >= wordings.most_common(1)[0][1]
    assert all(g["section"] is not None for g in first["groups"])
    assert not any("[NAME]" in w for g in first["groups"] for w in g["wordings"]), "patient-detail refusals are left out"

    again = await (await dashboard.get("/staff/api/unanswered?days=365", session)).json()
    assert again == first, "opened again (vectors and sections kept), the page shows the same groups"
    page = await (await dashboard.get("/staff/unanswered?days=365", session)).text()
    assert f"{sum(wordings.values())} unanswered questions" in page and f"{len(wordings)} different wordings" in page


async def test_the_handoff_queue_counts_a_year_as_python_does(year: tuple[Dashboard, SeededYear]) -> None:
    dashboard, seeded = year
    session, _ = await dashboard.sign_in()
    states = Counter(h["state"] for h in seeded.handoffs)
    for state in ("open", "answered", "published"):
        data = await (await dashboard.get(f"/staff/api/handoffs?state={state}", session)).json()
        assert data["counts"] == {s: states[s] for s in ("open", "answered", "published")}
        ours = sorted((h for h in seeded.handoffs if h["state"] == state), key=lambda h: h["created_at"], reverse=state != "open")
        assert [h["id"] for h in data["handoffs"]] == [h["handoff_id"] for h in ours[:200]], "open oldest first, the others newest first"
    page = await (await dashboard.get("/staff/handoffs", session)).text()
    assert f"Open ({states['open']})" in page


def test_the_memo_computes_each_text_once_and_forgets_the_least_recently_used() -> None:
    computed: list[list[str]] = []

    def lengths(texts: list[str]) -> list[int]:
        computed.append(list(texts))
        return [len(t) for t in texts]

    memo: TextMemo[int] = TextMemo(size=3)
    assert memo.get_many(["a", "bb", "a"], lengths) == [1, 2, 1]
    assert memo.get_many(["bb", "ccc"], lengths) == [2, 3]
    assert computed == [["a", "bb"], ["ccc"]], "a text already kept is not computed again, nor twice in one call"
    memo.get_many(["a", "dddd"], lengths)
    assert len(memo) == 3
    memo.get_many(["bb"], lengths)
    assert computed[-1] == ["bb"], "the least recently used text went first"
