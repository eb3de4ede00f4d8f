"""The state-store contract, run alike on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from threading import Barrier

import pytest
import sqlalchemy as sa

from bot.settings import Settings

from bot.store import (
    SCHEMA_VERSION,
    AnswerRecord,
    SqlStore,
    hash_user,
    normalize_database_url,
)
from conftest_store import Clock, claim_in_process, database_url, postgres_schema_url, store  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent


def answer(answer_id: str, *, at: datetime | None = None, **overrides: object) -> AnswerRecord:
    values: dict[str, object] = dict(
        answer_id=answer_id,
        platform="slack",
        question="What does a VPMA do?",
        answered=True,
        reason=None,
        sections=("Roles › VPMA",),
        confidence=0.82,
        user_hash="member-U1",
        conversation_id="C1",
    )
    values.update(overrides)
    if at is not None:
        values["created_at"] = at
    return AnswerRecord(**values)  # type: ignore[arg-type]


def test_a_key_is_claimed_only_by_its_first_caller(store: SqlStore) -> None:
    assert store.claim("Ev01") is True
    assert store.claim("Ev01") is False
    assert store.claim("Ev02") is True


def test_eight_threads_claiming_one_key_get_exactly_one_win(store: SqlStore) -> None:
    start = Barrier(8)

    def contend(_: int) -> bool:
        start.wait(timeout=30)
        return store.claim("Ev-race")

    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(contend, range(8)))
    assert wins.count(True) == 1


def test_two_processes_claiming_one_key_get_exactly_one_win(database_url: str) -> None:
    # Both processes also open (and so migrate) the fresh database at once.
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=claim_in_process, args=(database_url, "Ev-proc", barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert sorted(results.get(timeout=5) for _ in workers) == [False, True]


def test_a_claim_can_be_taken_again_once_its_ttl_has_passed(database_url: str) -> None:
    clock = Clock()
    store = SqlStore(database_url, clock=clock)
    assert store.claim("Ev-ttl", ttl_seconds=60)
    clock.advance(seconds=59)
    assert not store.claim("Ev-ttl", ttl_seconds=60)
    clock.advance(seconds=2)
    assert store.claim("Ev-ttl", ttl_seconds=60)
    assert not store.claim("Ev-ttl", ttl_seconds=60)
    store.close()


def test_a_second_click_by_the_same_member_replaces_the_first(store: SqlStore) -> None:
    store.save_answer(answer("A1"))
    store.record_feedback("A1", "U7", "slack", "up")
    store.record_feedback("A1", "U7", "slack", "down", comment="Not what I asked")
    store.record_feedback("A1", "U8", "slack", "up")

    votes = {record.user_hash: record for record in store.feedback_for("A1")}
    assert len(votes) == 2
    mine = votes[store.member_hash("slack", "U7")]
    assert (mine.value, mine.comment, mine.sections) == ("down", "Not what I asked", ("Roles › VPMA",))


def test_member_ids_are_stored_only_as_hashes(store: SqlStore) -> None:
    store.record_feedback("A1", "U7", "teams", "up")
    (record,) = store.feedback_for("A1")
    assert record.user_hash == store.member_hash("teams", "U7")
    assert "U7" not in record.user_hash
    assert record.user_hash != hashlib.sha256(b"teams:U7").hexdigest(), "keyed: an id list cannot be hashed to match"


def test_replicas_on_one_database_hash_a_member_alike_and_a_set_key_wins(database_url: str) -> None:
    first, second = SqlStore(database_url), SqlStore(database_url)
    assert first.member_hash("slack", "U7") == second.member_hash("slack", "U7") != first.member_hash("slack", "U8")
    keyed = SqlStore.for_settings(Settings(database_url=database_url, member_id_key="from-the-environment"))
    assert keyed.member_hash("slack", "U7") == hash_user("slack", "U7", b"from-the-environment")
    assert keyed.member_hash("slack", "U7") != first.member_hash("slack", "U7")
    for store_ in (first, second, keyed):
        store_.close()


def test_feedback_other_than_up_or_down_is_refused(store: SqlStore) -> None:
    with pytest.raises(ValueError):
        store.record_feedback("A1", "U7", "slack", "meh")


def test_feedback_survives_reopening_the_store(database_url: str) -> None:
    first = SqlStore(database_url)
    first.save_answer(answer("A1"))
    first.record_feedback("A1", "U7", "slack", "up", comment="Clear")
    first.close()

    reopened = SqlStore(database_url)
    assert [(r.value, r.comment) for r in reopened.feedback_for("A1")] == [("up", "Clear")]
    assert [q.answer_id for q in reopened.questions()] == ["A1"]
    reopened.close()


def test_a_write_that_returned_survives_kill_9_of_its_process(database_url: str) -> None:
    writer = textwrap.dedent(
        """
        import sys, time
        from bot.store import AnswerRecord, SqlStore
        store = SqlStore(sys.argv[1])
        store.save_answer(AnswerRecord("A-kill", "teams", "Is an MBA worth it?", False,
                                       "out_of_scope", (), 0.1, None, None))
        store.record_feedback("A-kill", "U9", "teams", "down")
        assert store.claim("Ev-kill")
        print("written", flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", writer, database_url],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "written"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    survivor = SqlStore(database_url)
    assert [q.answer_id for q in survivor.questions()] == ["A-kill"]
    assert [f.value for f in survivor.feedback_for("A-kill")] == ["down"]
    assert survivor.claim("Ev-kill") is False
    survivor.close()


def test_a_thread_remembers_its_latest_question(store: SqlStore) -> None:
    assert store.get_thread("C1:1700000000.000100") is None
    store.set_thread("C1:1700000000.000100", "How do I become a CMO?", "A1")
    store.set_thread("C1:1700000000.000100", "And with an MBA?", "A2")
    context = store.get_thread("C1:1700000000.000100")
    assert context is not None
    assert (context.question, context.answer_id) == ("And with an MBA?", "A2")
    assert context.updated_at.tzinfo is not None


def test_the_question_log_keeps_every_field(store: SqlStore) -> None:
    asked = answer(
        "A1",
        at=datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        platform="teams",
        answered=False,
        reason="out_of_scope",
        sections=(),
        confidence=0.125,
        user_hash=None,
        conversation_id=None,
    )
    store.save_answer(asked)
    store.save_answer(answer("A1", question="a retry of the same answer"))
    assert store.questions() == [asked]


def test_reads_for_the_report_start_at_since(store: SqlStore) -> None:
    early = datetime(2026, 1, 1, tzinfo=timezone.utc)
    late = datetime(2026, 2, 1, tzinfo=timezone.utc)
    store.save_answer(answer("old", at=early))
    store.save_answer(answer("new", at=late, sections=("Paths › MBA", "Roles › CMO")))
    store.record_feedback("new", "U1", "slack", "up")

    assert [q.answer_id for q in store.questions(since=late - timedelta(days=1))] == ["new"]
    assert [q.answer_id for q in store.questions(since=None)] == ["old", "new"]
    (vote,) = store.feedback(since=late - timedelta(days=1))
    assert vote.sections == ("Paths › MBA", "Roles › CMO")
    assert store.feedback(since=datetime.now(timezone.utc) + timedelta(days=1)) == []


def test_purge_deletes_only_what_is_older_than_the_date(database_url: str) -> None:
    clock = Clock(now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    store = SqlStore(database_url, clock=clock)
    store.save_answer(answer("old", at=clock.now, sections=("Roles › CMO",)))
    store.record_feedback("old", "U1", "slack", "down", comment="my patient [NAME] …")
    store.set_thread("T-old", "What does a CMO do?", "old")
    store.claim("Ev-old", ttl_seconds=60)

    clock.advance(days=200)
    store.save_answer(answer("new", at=clock.now))
    store.record_feedback("new", "U1", "slack", "up")
    store.set_thread("T-new", "What does a VPMA do?", "new")
    store.claim("Ev-new", ttl_seconds=3600)

    assert store.purge(older_than=clock.now - timedelta(days=180)) == 1

    assert [q.answer_id for q in store.questions()] == ["new"]
    assert [f.answer_id for f in store.feedback()] == ["new"]
    assert store.get_thread("T-old") is None
    assert store.get_thread("T-new") is not None
    assert store.claim("Ev-new") is False
    (kept,) = store.feedback_totals()
    assert (kept.day.isoformat(), kept.section, kept.value, kept.count) == (
        "2026-01-01",
        "Roles › CMO",
        "down",
        1,
    )
    assert store.purge(older_than=clock.now - timedelta(days=180)) == 0
    assert len(store.feedback_totals()) == 1
    store.close()


VERSION_1_SCHEMA = [
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)",
    "INSERT INTO schema_version VALUES (1, '2025-06-01 00:00:00')",
    "CREATE TABLE claims (claim_key TEXT PRIMARY KEY, expires_at TIMESTAMP NOT NULL)",
    "CREATE TABLE questions (answer_id TEXT PRIMARY KEY, platform TEXT NOT NULL, "
    "question TEXT NOT NULL, answered BOOLEAN NOT NULL, reason TEXT, sections TEXT NOT NULL, "
    "confidence DOUBLE PRECISION NOT NULL, user_hash TEXT, created_at TIMESTAMP NOT NULL)",
    "CREATE INDEX questions_created_at ON questions (created_at)",
    "CREATE TABLE feedback (answer_id TEXT NOT NULL, user_hash TEXT NOT NULL, "
    "platform TEXT NOT NULL, value TEXT NOT NULL, created_at TIMESTAMP NOT NULL, "
    "PRIMARY KEY (answer_id, user_hash))",
    "CREATE TABLE threads (thread_key TEXT PRIMARY KEY, question TEXT NOT NULL, "
    "answer_id TEXT NOT NULL, updated_at TIMESTAMP NOT NULL)",
    "INSERT INTO questions VALUES ('A-v1', 'slack', 'What does a VPMA do?', TRUE, NULL, "
    "'[\"Roles › VPMA\"]', 0.9, 'h1', '2025-06-02 10:00:00')",
    "INSERT INTO feedback VALUES ('A-v1', 'h1', 'slack', 'up', '2025-06-02 10:05:00')",
    "INSERT INTO threads VALUES ('T-v1', 'What does a VPMA do?', 'A-v1', '2025-06-02 10:00:00')",
    "INSERT INTO claims VALUES ('Ev-v1', '2999-01-01 00:00:00')",
]


def test_a_version_1_database_is_upgraded_with_its_rows_intact(database_url: str) -> None:
    engine = sa.create_engine(normalize_database_url(database_url))
    with engine.begin() as conn:
        for statement in VERSION_1_SCHEMA:
            conn.exec_driver_sql(statement)
    engine.dispose()

    store = SqlStore(database_url)
    assert store.current_schema_version() == SCHEMA_VERSION > 1
    (question,) = store.questions()
    assert (question.answer_id, question.answered, question.sections, question.conversation_id) == (
        "A-v1",
        True,
        ("Roles › VPMA",),
        None,
    )
    assert question.created_at == datetime(2025, 6, 2, 10, tzinfo=timezone.utc)
    (vote,) = store.feedback_for("A-v1")
    assert (vote.user_hash, vote.value, vote.comment, vote.sections) == ("h1", "up", None, ("Roles › VPMA",))
    thread = store.get_thread("T-v1")
    assert thread is not None and thread.answer_id == "A-v1"
    assert store.claim("Ev-v1") is False

    store.record_feedback("A-v1", "U2", "slack", "down", comment="columns added in version 2 work")
    assert {v.comment for v in store.feedback_for("A-v1")} == {None, "columns added in version 2 work"}
    store.close()


def test_reopening_an_up_to_date_database_changes_nothing(database_url: str) -> None:
    SqlStore(database_url).close()
    store = SqlStore(database_url)
    assert store.current_schema_version() == SCHEMA_VERSION
    assert store.ping()
    store.close()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://root@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test"),
        ("postgres://u:p@db/guidebot", "postgresql+psycopg://u:p@db/guidebot"),
        ("postgresql+psycopg://root@db/x", "postgresql+psycopg://root@db/x"),
        ("sqlite:////var/lib/guidebot/state.sqlite3", "sqlite:////var/lib/guidebot/state.sqlite3"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given: str, used: str) -> None:
    assert normalize_database_url(given) == used


def test_an_in_memory_store_serves_many_threads() -> None:
    store = SqlStore("sqlite://")
    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(lambda _: store.claim("Ev-mem"), range(8)))
    assert wins.count(True) == 1
    store.close()


def test_sqlite_files_are_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'nested' / 'state.sqlite3'}")
    with store._engine.connect() as conn:  # noqa: SLF001 - the pragmas are the behaviour under test
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    store.close()


def test_on_sqlite_a_waiting_claim_goes_before_waiting_bookkeeping(tmp_path: Path) -> None:
    """A lease a platform waits on (Slack's ack) is not queued behind answers' log writes."""
    import threading

    store = SqlStore(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    order: list[str] = []
    entered, release = threading.Event(), threading.Event()
    turns = store._turns  # noqa: SLF001 - the queue is the behaviour under test
    assert turns is not None

    def holder() -> None:
        with turns.turn(urgent=False):
            entered.set()
            release.wait(10)

    def waiter(name: str, urgent: bool, queued: threading.Event) -> None:
        queued.set()
        with turns.turn(urgent):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    assert entered.wait(10)
    waiters = []
    for name, urgent in (("log 1", False), ("log 2", False), ("lease", True)):
        queued = threading.Event()
        thread = threading.Thread(target=waiter, args=(name, urgent, queued))
        thread.start()
        queued.wait(10)
        while len(turns._waiting[0]) + len(turns._waiting[1]) < len(waiters) + 1:  # noqa: SLF001
            threading.Event().wait(0.001)
        waiters.append(thread)
    release.set()
    for thread in [first, *waiters]:
        thread.join(10)
    assert order == ["lease", "log 1", "log 2"]
    assert store.claim_work("slack:message:C1:1", lease_seconds=60) == "won"
    store.close()


def test_a_console_session_id_never_reaches_the_database_in_clear(database_url: str) -> None:
    """A thread key names a browser session (`console:<cookie>`): holding it would let anyone who
    reads the database ride that member's session; the store keeps only a keyed hash of it."""
    store = SqlStore(database_url, member_key="k" * 32)
    cookie = "SessionCookieValue-0123456789abcdef"
    store.set_thread(f"console:{cookie}", "What does a CMO do?", "A1")
    context = store.get_thread(f"console:{cookie}")
    assert context is not None and context.question == "What does a CMO do?"
    with store._engine.connect() as conn:  # noqa: SLF001 - what lies in the table is the behaviour under test
        keys = [row[0] for row in conn.exec_driver_sql("SELECT thread_key FROM threads")]
    assert len(keys) == 1 and cookie not in keys[0]
    assert store.get_thread("console:another-session-entirely") is None
    store.close()


def test_stored_text_is_cut_and_has_no_terminal_control_sequences(database_url: str) -> None:
    """A 55,020-character paste is kept only as far as the bot reads it (`max_question_chars`), and
    escape sequences that would clear or retitle the staff's terminal (`guidebot report`) are dropped."""
    store = SqlStore(database_url, max_text_chars=2000)
    hostile = "What does a CMO do?\x1b[2J\x1b]0;pwned\x07\x9b31m\x00\r done\u202e"
    store.save_answer(answer("long", question="x" * 55_020))
    store.save_answer(answer("escapes", question=hostile))
    store.set_thread("T1", hostile, "escapes")
    store.record_feedback("escapes", "U1", "slack", "down", comment=hostile + " a" * 3000)

    questions = {q.answer_id: q.question for q in store.questions()}
    assert len(questions["long"]) == 2000
    thread = store.get_thread("T1")
    (vote,) = store.feedback_for("escapes")
    for text in (questions["escapes"], thread.question if thread else "", vote.comment or ""):
        assert text.startswith("What does a CMO do?")
        assert "done" in text
        assert not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)
        assert "pwned" not in text and "\u202e" not in text
    assert len(vote.comment or "") <= 2000
    store.close()


def test_an_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds the question log and, unless GUIDEBOT_MEMBER_ID_KEY is set, the key member ids are hashed with."""
    fresh = tmp_path / "fresh" / "state.sqlite3"
    old = tmp_path / "old.sqlite3"
    old.touch(mode=0o644)
    old.chmod(0o644)
    previous = os.umask(0o022)
    try:
        for path in (fresh, old):
            store = SqlStore(f"sqlite:///{path}")
            store.save_answer(answer("A1"))
            files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
            assert {p.name for p in files} >= {path.name, f"{path.name}-wal", f"{path.name}-shm"}
            for file in files:
                assert file.stat().st_mode & 0o077 == 0, f"{file.name} is {oct(file.stat().st_mode)}"
            store.close()
    finally:
        os.umask(previous)


def test_purged_questions_leave_the_sqlite_file(tmp_path: Path) -> None:
    """Deleted rows are overwritten (secure_delete) and the write-ahead log is emptied after a purge, so
    the text is gone from the disk too, not only from queries."""
    path = tmp_path / "state.sqlite3"
    clock = Clock(now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    store = SqlStore(f"sqlite:///{path}", clock=clock)
    marker = "Zanzibar-quokka-marker"
    store.save_answer(answer("old", at=clock.now, question=f"{marker} question"))
    store.record_feedback("old", "U1", "slack", "down", comment=f"{marker} comment")
    store.set_thread("T-old", f"{marker} thread", "old")
    clock.advance(days=200)
    store.save_answer(answer("new", at=clock.now))

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(path.name))

    assert marker.encode() in on_disk()
    store.purge(older_than=clock.now - timedelta(days=180))
    assert marker.encode() not in on_disk()
    store.close()
    assert marker.encode() not in on_disk()


def test_thread_keys_stored_in_clear_by_an_older_version_are_hashed_on_opening(database_url: str) -> None:
    SqlStore(database_url).close()
    engine = sa.create_engine(normalize_database_url(database_url))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO threads VALUES ('console:OldSessionCookie-0123456789', 'What is a CMO?', 'A0', '2026-01-01 00:00:00')"
        )
    store = SqlStore(database_url)
    thread = store.get_thread("console:OldSessionCookie-0123456789")
    assert thread is not None and thread.answer_id == "A0"
    with engine.connect() as conn:
        assert "OldSessionCookie" not in " ".join(r[0] for r in conn.exec_driver_sql("SELECT thread_key FROM threads"))
    engine.dispose()
    store.close()
