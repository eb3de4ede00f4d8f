"""The staff report over a store filled with known questions and votes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from rich.console import Console
from typer.testing import CliRunner

from bot.report import build_report, group_questions, report_to_csv, report_to_json, report_to_table
from bot.settings import Settings
from bot.staff_cli import register
from bot.store import AnswerRecord, SqlStore
from index.embedder import HashingEmbedder

DAY = datetime(2026, 3, 1, tzinfo=timezone.utc)


def logged(
    answer_id: str,
    platform: str,
    question: str,
    sections: tuple[str, ...] = (),
    *,
    at: datetime = DAY,
    reason: str | None = None,
) -> AnswerRecord:
    """A logged question; answered exactly when it quoted sections."""
    return AnswerRecord(
        answer_id=answer_id,
        platform=platform,
        question=question,
        answered=bool(sections),
        reason=reason if reason or sections else "out_of_scope",
        sections=sections,
        confidence=0.7 if sections else 0.1,
        user_hash=None,
        conversation_id=None,
        created_at=at,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    filled = SqlStore(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    for record in [
        logged("s1", "slack", "What does a VPMA do?", ("Roles › VPMA",)),
        logged("s2", "slack", "Is an MBA worth it?", ("Degrees › MBA", "Paths › Business")),
        logged("s3", "slack", "How do I become a CMO?", ("Roles › CMO",)),
        logged("s4", "slack", "How do I negotiate call pay?"),
        logged("t1", "teams", "How should I negotiate my call pay?"),
        logged("t2", "teams", "Which EHR vendor is best?"),
        logged("t3", "teams", "my patient [NAME] needs a referral", reason="phi"),
        logged("old", "slack", "How do I negotiate call pay", at=DAY - timedelta(days=40)),
    ]:
        filled.save_answer(record)
    filled.record_feedback("s1", "U1", "slack", "up")
    filled.record_feedback("s1", "U2", "slack", "down")
    filled.record_feedback("s1", "U3", "slack", "up")
    filled.record_feedback("s2", "U1", "slack", "down")
    filled.record_feedback("t2", "U4", "teams", "down")
    yield filled
    filled.close()


def test_usage_is_counted_per_platform_with_answer_rates(store: SqlStore) -> None:
    report = build_report(store, since=DAY - timedelta(days=1), embed=None)
    stats = {p.platform: (p.questions, p.answered, round(p.answer_rate, 3)) for p in report.platforms}
    assert stats == {"slack": (4, 3, 0.75), "teams": (3, 0, 0.0)}
    assert (report.questions, report.answered, round(report.answer_rate, 3)) == (7, 3, 0.429)


def test_since_none_covers_the_whole_log(store: SqlStore) -> None:
    assert build_report(store, since=None).questions == 8


def test_similar_unanswered_questions_are_one_group_and_patient_messages_none(store: SqlStore) -> None:
    report = build_report(store, since=None, embed=None)
    groups = {group.representative: group for group in report.unanswered}
    assert len(report.unanswered) == 2
    call_pay = report.unanswered[0]
    assert call_pay.count == 3
    assert call_pay.examples == ("How do I negotiate call pay", "How should I negotiate my call pay?")
    assert groups["Which EHR vendor is best?"].count == 1
    assert not any("[NAME]" in g.representative for g in report.unanswered)


@pytest.mark.parametrize("embed", [None, HashingEmbedder().encode], ids=["fuzzy", "embeddings"])
def test_grouping_joins_rephrasings_and_keeps_other_questions_apart(embed) -> None:  # type: ignore[no-untyped-def]
    groups = group_questions(
        [
            "How do I become a CMO?",
            "how do I become a CMO quickly?",
            "Which EHR vendor is best?",
            "How do I become a CMO?",
        ],
        embed,
    )
    assert [(g.representative, g.count) for g in groups] == [
        ("How do I become a CMO?", 3),
        ("Which EHR vendor is best?", 1),
    ]
    assert groups[0].examples == ("How do I become a CMO?", "how do I become a CMO quickly?")


def test_fuzzy_grouping_is_not_fooled_by_shared_stop_words_or_one_shared_acronym() -> None:
    groups = group_questions(["What is a CMO?", "What is a VPMA?", "How do I become a CMO?"])
    assert len(groups) == 3


def test_votes_are_counted_for_every_section_an_answer_quoted(store: SqlStore) -> None:
    report = build_report(store, since=None)
    votes = {row.section: (row.up, row.down) for row in report.feedback}
    assert votes == {
        "Roles › VPMA": (2, 1),
        "Degrees › MBA": (0, 1),
        "Paths › Business": (0, 1),
        "(no section)": (0, 1),
    }
    assert report.feedback[0].section == "Roles › VPMA"


def test_votes_removed_by_purge_still_count(store: SqlStore) -> None:
    store.purge(older_than=datetime.now(timezone.utc) + timedelta(days=1))
    report = build_report(store, since=None)
    assert report.questions == 0
    votes = {row.section: (row.up, row.down) for row in report.feedback}
    assert votes["Roles › VPMA"] == (2, 1)


def test_csv_has_one_row_per_platform_group_and_section(store: SqlStore) -> None:
    rows = list(csv.DictReader(io.StringIO(report_to_csv(build_report(store, since=DAY)))))
    by_kind = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    assert [(r["key"], r["questions"], r["answered"], r["answer_rate"]) for r in by_kind["platform"]] == [
        ("slack", "4", "3", "0.75"),
        ("teams", "3", "0", "0.0"),
    ]
    assert [(r["key"], r["questions"]) for r in by_kind["total"]] == [("all", "7")]
    assert [r["count"] for r in by_kind["unanswered"]] == ["2", "1"]
    assert "How should I negotiate my call pay?" in by_kind["unanswered"][0]["examples"]
    assert {(r["key"], r["up"], r["down"]) for r in by_kind["feedback"]} >= {("Roles › VPMA", "2", "1")}


def test_json_is_plain_data_with_the_same_numbers(store: SqlStore) -> None:
    data = report_to_json(build_report(store, since=DAY))
    assert json.loads(json.dumps(data)) == data
    assert (data["questions"], data["answered"], data["answer_rate"]) == (7, 3, 0.4286)
    assert data["since"] == "2026-03-01T00:00:00+00:00"
    assert data["platforms"][1] == {"platform": "teams", "questions": 3, "answered": 0, "answer_rate": 0.0}
    assert data["unanswered"][0]["count"] == 2
    assert data["feedback_by_section"][0] == {"section": "Roles › VPMA", "up": 2, "down": 1}


def test_the_table_shows_every_part_of_the_report(store: SqlStore) -> None:
    console = Console(record=True, width=160)
    console.print(report_to_table(build_report(store, since=DAY)))
    shown = console.export_text()
    for expected in ("slack", "teams", "75%", "How do I negotiate call pay?", "Roles › VPMA", "👎"):
        assert expected in shown


def test_an_empty_store_gives_an_empty_report(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    report = build_report(store, since=None, embed=HashingEmbedder().encode)
    assert (report.questions, report.answer_rate, report.unanswered, report.feedback) == (0, 0.0, (), ())
    assert report_to_csv(report).splitlines()[1:] == ["total,all,0,0,0.0,,,,"]
    store.close()


@pytest.fixture
def cli(store: SqlStore, tmp_path: Path) -> typer.Typer:
    app = typer.Typer()
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'state.sqlite3'}",
        model="hashing-64",
        question_retention_days=3650,
    )
    register(app, lambda: settings)
    return app


@pytest.mark.parametrize("embed", ["--embed", "--no-embed"])
def test_staff_can_read_the_report_as_json_from_the_cli(cli: typer.Typer, embed: str) -> None:
    result = CliRunner().invoke(cli, ["report", "--since", "2026-03-01", "--format", "json", embed])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["questions"], data["grouping"]) == (7, "embeddings" if embed == "--embed" else "fuzzy")


def test_staff_can_read_the_report_as_csv_and_table_from_the_cli(cli: typer.Typer) -> None:
    as_csv = CliRunner().invoke(cli, ["report", "--format", "csv", "--no-embed"])
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.output.startswith("kind,key,questions")
    as_table = CliRunner().invoke(cli, ["report", "--no-embed"])
    assert as_table.exit_code == 0, as_table.output
    assert "Feedback by section" in as_table.output


def test_purge_from_the_cli_uses_the_retention_days_unless_told(cli: typer.Typer, store: SqlStore) -> None:
    kept_for_a_while = CliRunner().invoke(cli, ["purge"])
    assert kept_for_a_while.exit_code == 0, kept_for_a_while.output
    assert "Deleted 0 questions" in kept_for_a_while.output

    everything = CliRunner().invoke(cli, ["purge", "--older-than", "0"])
    assert everything.exit_code == 0, everything.output
    assert "Deleted 8 questions" in everything.output
    assert store.questions() == []


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"CMO\")", "+1+cmd|' /C calc'!A0", "-2+3 what is a CMO", "@SUM(A1:A9)"]


def test_csv_cells_never_start_a_spreadsheet_formula(tmp_path: Path) -> None:
    """Members type the questions; a cell starting = + - @ (or a tab or return) would run as a formula in
    the spreadsheet staff open the CSV in."""
    store = SqlStore(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    for n, question in enumerate(FORMULAS):
        store.save_answer(logged(f"f{n}", "slack", question))
    rows = list(csv.DictReader(io.StringIO(report_to_csv(build_report(store, since=None)))))
    cells = [row[column] for row in rows if row["kind"] == "unanswered" for column in ("key", "examples")]
    assert len(cells) == 2 * len(FORMULAS)
    for cell in cells:
        assert cell[0] not in "=+-@\t\r", cell
    assert {row["key"].lstrip("'") for row in rows if row["kind"] == "unanswered"} == set(FORMULAS)
    store.close()


def test_terminal_control_sequences_in_questions_never_reach_the_report(tmp_path: Path) -> None:
    """Clearing the screen, retitling the window or hiding text with escapes: stripped when stored, and
    stripped again when shown, for rows an earlier version stored raw."""
    path = tmp_path / "state.sqlite3"
    store = SqlStore(f"sqlite:///{path}")
    store.save_answer(logged("new", "slack", "What is a CMO?\x1b[2J\x1b]0;pwned\x07 now"))
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # a row written before the store stripped control characters
        conn.exec_driver_sql(
            "INSERT INTO questions (answer_id, platform, question, answered, reason, sections, confidence, created_at) "
            "VALUES ('old', 'teams', ?, 0, 'out_of_scope', '[]', 0.1, '2026-03-01 00:00:00')",
            ("Which EHR?\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[8mhidden\r\x9b2J",),
        )
    engine.dispose()
    report = build_report(store, since=None)
    console = Console(file=io.StringIO(), force_terminal=True, width=200)
    console.print(report_to_table(report))
    outputs = [console.file.getvalue(), report_to_csv(report), json.dumps(report_to_json(report), ensure_ascii=False)]  # type: ignore[attr-defined]
    for shown in outputs:
        for sequence in ("\x1b[2J", "\x1b]", "\x07", "\x9b", "\x1b[8m", "\r"):
            assert sequence not in shown, (sequence, shown)
        assert "What is a CMO?" in shown and "Which EHR?" in shown
    store.close()
