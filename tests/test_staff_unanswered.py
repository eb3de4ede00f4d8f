"""The dashboard's Unanswered page over HTTP: what members asked through the console and the guide did not
answer, grouped as `guidebot report` groups it, each group with its nearest section, a link to write the
answer there and an e-mail to hand it on.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import bot.staff.unanswered as unanswered
from bot.report import group_questions
from bot.settings import Settings
from bot.store import AnswerRecord, SqlStore
from conftest_store import Clock, database_url, postgres_schema_url  # noqa: F401 - fixtures
from tests.test_staff_dashboard import Dashboard, dashboard_settings, start

WEATHER = (
    "What will the weather be like in Boston tomorrow?",
    "What will the weather be like in Boston tomorrow?",
    "what will the weather be like in boston tomorrow",
    "Will it rain in Boston tomorrow?",
)
PAY = ("How much does a CMO earn?", "How much does a CMO earn?")
ANSWERED = "What does a VPMA do?"
PATIENT = "My patient John Smith, MRN 55512345, asks about the weather"


@pytest.fixture
async def dashboard(guide_settings: Settings, guide_index: Any, embedder: Any, tmp_path: Path) -> AsyncIterator[Dashboard]:
    started = await start(dashboard_settings(guide_settings, tmp_path), embedder)
    yield started
    await started.client.close()
    started.guidebot.close()


async def seeded(dashboard: Dashboard) -> list[dict[str, Any]]:
    asked = [await dashboard.ask(question) for question in (*WEATHER, *PAY, ANSWERED, PATIENT)]
    assert [a["answered"] for a in asked] == [False] * 6 + [True, False] and asked[-1]["reason"] == "phi"
    return asked


async def test_the_page_groups_the_unanswered_questions_as_the_report_does(dashboard: Dashboard, guide_index: Any) -> None:
    await seeded(dashboard)
    session, _ = await dashboard.sign_in()

    data = await (await dashboard.get("/staff/api/unanswered?days=7", session)).json()
    assert (data["days"], data["unanswered"], data["grouping"], data["capped"]) == (7, 6, "embeddings", False)
    assert data["wordings"] == 4, "the same text twice is one wording; another case is another text"
    expected = group_questions([*WEATHER, *PAY], dashboard.guidebot.engines.embedder.encode)
    assert [(g["representative"], g["count"], g["wordings"]) for g in data["groups"]] == [
        (g.representative, g.count, list(g.examples)) for g in expected
    ], "the report's own groups"
    weather = data["groups"][0]
    assert weather["representative"] == WEATHER[0] and weather["count"] >= 3
    assert all(PATIENT not in w and ANSWERED not in w for g in data["groups"] for w in g["wordings"])

    sections = {(c.document_id, c.section_slug) for c in guide_index.chunks}
    for group in data["groups"]:
        section = group["section"]
        assert (section["document_id"], section["anchor"]) in sections, "a real section of the guide"
        assert section["write_link"] == f"/staff/guide?edit={section['document_id']}#{section['anchor']}"
        assert section["guide_link"] == f"/docs/{section['document_id']}#{section['anchor']}"
        assert group["link"] == f"/staff/unanswered?days=7#group-{group['id']}"

    response = await dashboard.get("/staff/unanswered?days=7", session)
    page = await response.text()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<script" not in page and "style=" not in page and "<style" not in page
    assert '<a href="/staff/unanswered?days=7" aria-current="page">7 days</a>' in page
    assert '<a href="/staff/unanswered" aria-current="page">Unanswered</a>' in page
    assert "6 unanswered questions" in page and "4 different wordings" in page
    block = page[page.index(f'id="group-{weather["id"]}"') :]
    block = block[: block.index("</section>")]
    assert f"<h2 id=\"group-{weather['id']}-title\">{WEATHER[0]}</h2>" in block and f"Asked {weather['count']} times" in block
    assert f'href="{weather["section"]["write_link"]}">Write the answer into the guide</a>' in block
    mail = re.search(r'href="(mailto:[^"]+)">Hand it to a colleague by e-mail', block)
    assert mail is not None
    body = unquote(mail.group(1).replace("&amp;", "&"))
    base = dashboard.guidebot.staff.base_url()
    assert f"- {WEATHER[0]}" in body and f"{base}/staff/unanswered?days=7#group-{weather['id']}" in body
    assert f"{base}{weather['section']['write_link']}" in body


async def test_the_cap_groups_only_the_most_asked_wordings(dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch) -> None:
    await seeded(dashboard)
    session, _ = await dashboard.sign_in()
    monkeypatch.setattr(unanswered, "GROUPED_WORDINGS", 2)
    data = await (await dashboard.get("/staff/api/unanswered?days=30", session)).json()
    assert (data["unanswered"], data["wordings"], data["grouped"], data["cap"], data["capped"]) == (6, 4, 2, 2, True)
    assert sorted((w, g["count"]) for g in data["groups"] for w in g["wordings"]) == sorted([(WEATHER[0], 2), (PAY[0], 2)])
    page = await (await dashboard.get("/staff/unanswered?days=30", session)).text()
    assert "the 2 most asked wordings are grouped, the rest are only counted" in page


async def test_an_empty_period_and_signed_out_requests(dashboard: Dashboard) -> None:
    session, _ = await dashboard.sign_in()
    data = await (await dashboard.get("/staff/api/unanswered?days=365", session)).json()
    assert (data["days"], data["unanswered"], data["groups"]) == (365, 0, [])
    assert "No unanswered questions in this period." in await (await dashboard.get("/staff/unanswered?days=oops", session)).text()
    response = await dashboard.get("/staff/unanswered?days=7")
    assert response.status == 303 and response.headers["Location"] == "/staff/sign-in"
    assert (await dashboard.get("/staff/api/unanswered")).status == 401


def test_the_store_counts_the_wordings_by_group_by_on_sqlite_and_postgresql(database_url: str) -> None:  # noqa: F811 - the fixture
    now = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
    store = SqlStore(database_url, Clock(now))
    try:
        asked = [("Weather?", False, "out_of_scope", 0)] * 3 + [
            ("Pay?", False, "out_of_scope", 1),
            ("Pay?", False, None, 2),
            ("Parking?", False, "error", 3),
            ("[NAME]'s chart?", False, "phi", 0),
            ("What does a VPMA do?", True, None, 0),
            ("Old?", False, "out_of_scope", 40),
        ]
        for n, (text, answered, reason, days_ago) in enumerate(asked):
            store.save_answer(AnswerRecord(f"A{n}", "slack", text, answered, reason, (), 0.5, None, None, created_at=now - timedelta(days=days_ago)))
        since = now - timedelta(days=7)
        assert store.unanswered_wordings(since, {"phi", "empty"}, 10) == (6, 3, [("Weather?", 3), ("Pay?", 2), ("Parking?", 1)])
        assert store.unanswered_wordings(since, {"phi", "empty"}, 1) == (6, 3, [("Weather?", 3)]), "counted whole, listed to the cap"
        assert store.unanswered_wordings(now - timedelta(days=90), {"phi", "empty"}, 10)[:2] == (7, 4)
    finally:
        store.close()
