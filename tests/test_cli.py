"""The `guidebot` command line, as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import cli
from bot.settings import Settings
from index.guide_index import GuideIndex
from tests.test_commands import TYPED_COMMANDS, TYPED_QUESTION, UNKNOWN_NAME


@pytest.fixture()
def run(guide_settings: Settings, guide_index: GuideIndex, monkeypatch: pytest.MonkeyPatch):
    """Invoke the CLI against the session's index (settings come from the environment)."""
    monkeypatch.setenv("GUIDEBOT_DATA_DIR", str(guide_settings.data_dir))
    monkeypatch.setenv("GUIDEBOT_KNOWLEDGE_DIR", str(guide_settings.knowledge_dir))
    cli.get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli.app, list(args))

    yield invoke
    cli.get_settings.cache_clear()


def _words(output: str) -> str:
    """The terminal output as plain words: panels' borders and line wrapping removed."""
    return " ".join(output.replace("│", " ").split())


def test_ask_prints_the_passage_and_its_source(run):
    result = run("ask", "What does a medical director do?")
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert "establishing clinical protocols" in text
    assert "[1] How to Become a Chief Medical Officer: A Career Path › Medical Director Roles" in text


def test_ask_prints_the_lead_first_then_the_passages(run):
    data = json.loads(run("ask", "--json", "What does a VPMA do?").output)
    text = _words(run("ask", "What does a VPMA do?").output)
    lead = " ".join(f"{' '.join(s['text'].split())} [{s['passage']}]" for s in data["lead"])
    assert data["lead"] and text.startswith(lead), "the answering sentences, each with its number, come first"
    assert text.index("╭─ [1]") > len(lead) and text.index("Sources") > text.index("╭─ [1]")


def test_ask_json_prints_one_object_with_the_documented_fields(run):
    result = run("ask", "--json", "What is the CPE credential?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answered"] is True
    assert data["passages"][0]["section"] == "Essential Educational Credentials"
    assert {"text", "document", "section", "source", "score"} <= data["passages"][0].keys()


def test_ask_json_file_prints_one_line_per_question_in_order(run, tmp_path: Path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"q": "What is the MMM?"}\n{"q": "What is the weather today?"}\n\n{"q": "What does a CQO do?"}\n')
    result = run("ask", "--json", "--file", str(questions))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["question"] for r in rows] == ["What is the MMM?", "What is the weather today?", "What does a CQO do?"]
    assert [r["answered"] for r in rows] == [True, False, True]
    assert rows[1]["suggestions"]


def test_ask_refuses_patient_details_as_the_server_does_and_logs_every_question_for_the_report(run, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("GUIDEBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'log.sqlite3'}")
    cli.get_settings.cache_clear()
    patient = "My patient John Smith, MRN 84736251, DOB 03/04/1961 — should I become a medical director?"
    refused = run("ask", "--json", patient)
    assert refused.exit_code == 0, refused.output
    [row] = [json.loads(line) for line in refused.output.splitlines()]
    assert (row["answered"], row["reason"]) == (False, "phi") and "patient information" in row["message"]
    assert "84736251" not in refused.output and "John Smith" not in refused.output
    assert run("ask", "What is the weather today?").exit_code == 0

    report = run("report", "--format", "json", "--no-embed")
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert [(p["platform"], p["questions"], p["answered"]) for p in data["platforms"]] == [("cli", 2, 0)]
    assert any("weather" in example for group in data["unanswered"] for example in group["examples"])
    assert "84736251" not in report.output and "John Smith" not in report.output


def test_a_bad_questions_file_is_a_clear_error(run, tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "fine"}\nnot json\n')
    result = run("ask", "--json", "--file", str(bad))
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output and "Traceback" not in result.output


def test_eval_json_reports_the_metrics(run, tmp_path: Path):
    on = tmp_path / "on.jsonl"
    on.write_text('{"q": "What does a VPMA do?", "gold": ["clinical governance"]}\n')
    off = tmp_path / "off.jsonl"
    off.write_text('{"q": "Best pizza in Chicago?"}\n')
    result = run("eval", "--questions", str(on), "--oos", str(off), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["hit_at_1"] == 1.0 and report["hit_at_3"] == 1.0 and report["mrr_at_5"] == 1.0
    assert report["lead_hit"] == 1.0 and 0 < report["max_lead_chars"] <= 450
    assert 0 <= report["first_line_hit"] <= report["lead_hit"]
    assert report["answered"] == 1.0 and report["oos_refused"] == 1.0
    assert report["mean_passages"] >= 1.0
    assert report["median_message_chars"]["slack"] > 0
    point = report["operating_point"]
    assert 0 < point["threshold"] < 1 and 0 <= point["risk"] < 1
    assert point["coverage"] >= point["target_coverage"] > 0.5


def test_eval_reads_gold_as_typed_by_hand_and_falls_back_to_the_gold_section(run, tmp_path: Path):
    """Gold phrases copied by hand differ from the guide in quotes, case and spacing; some sets name only a section."""
    on = tmp_path / "on.jsonl"
    rows = [
        {"q": "What does a VPMA do?", "gold": "the ORGANIZATION'S  business"},
        {"q": "What does a VPMA do?", "section": "Vice President of Medical Affairs"},
        {"q": "What does a VPMA do?", "section": "Essential Educational Credentials"},
    ]
    on.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = run("eval", "--questions", str(on), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["hit_at_1"] == pytest.approx(2 / 3)
    assert report["lead_hit"] == pytest.approx(2 / 3)
    assert [m["question"] for m in report["misses"]] == ["What does a VPMA do?"]
    assert "Vice President of Medical Affairs" in report["misses"][0]["sections"][0]


def test_eval_refuses_a_gold_that_is_not_phrases(run, tmp_path: Path):
    on = tmp_path / "on.jsonl"
    on.write_text('{"q": "What does a VPMA do?", "gold": ["clinical governance"]}\n{"q": "What is a CPE?", "gold": 3}\n')
    result = run("eval", "--questions", str(on))
    assert result.exit_code == 1
    assert "on.jsonl:2" in result.output and "gold" in result.output and "Traceback" not in result.output


def test_index_says_when_it_is_up_to_date(run):
    result = run("index")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_a_missing_index_tells_the_user_to_run_guidebot_index(run, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("GUIDEBOT_DATA_DIR", str(tmp_path / "empty"))
    cli.get_settings.cache_clear()
    result = run("ask", "What is a VPMA?")
    assert result.exit_code == 1
    assert "guidebot index" in result.output and "Traceback" not in result.output


def test_command_prints_a_role_summary(run):
    result = run("command", "role vpma")
    assert result.exit_code == 0, result.output
    assert "Vice President of Medical Affairs" in _words(result.output)


@pytest.mark.parametrize(("typed", "title"), TYPED_COMMANDS)
def test_command_reads_names_as_members_type_them(run, typed: str, title: str):
    result = run("command", typed)
    assert result.exit_code == 0, result.output
    assert title in _words(result.output)


def test_command_answers_a_question_as_slash_guide_does(run):
    result = run("command", TYPED_QUESTION)
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert "Vice President of Medical Affairs" in text and "Sources" in text and "[1]" in text


def test_command_with_an_unknown_name_suggests_the_closest_names_first(run):
    typed, title, closest = UNKNOWN_NAME
    result = run("command", typed)
    assert result.exit_code == 0, result.output
    assert title in _words(result.output) and f"Did you mean {closest}" in _words(result.output)


def test_command_alone_shows_the_help(run):
    result = run("command", "")
    assert result.exit_code == 0, result.output
    assert "What I can do" in _words(result.output)
