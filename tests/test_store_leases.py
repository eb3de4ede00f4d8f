"""The state-store contract for leased claims (`claim_work` / `complete` / `unfinished`), on SQLite and PostgreSQL.

A plain `claim` is final: if the replica that won it dies before answering, a
platform retry is turned away for a day and the question is lost. A leased
claim lapses unless it is completed, so the retry (or, for platforms that never
retry after an ack, the next replica reading `unfinished`) does the work once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from threading import Barrier

from bot.store import SqlStore
from conftest_store import Clock, database_url, postgres_schema_url, store  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent
LEASE = 30


def test_leased_work_is_busy_for_others_until_its_lease_lapses(database_url: str) -> None:
    clock = Clock()
    store = SqlStore(database_url, clock=clock)
    assert store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE) == "won"
    assert store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE) == "busy"
    assert store.claim("slack:message:C1:1.0") is False
    clock.advance(seconds=LEASE - 1)
    assert store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE) == "busy"
    clock.advance(seconds=2)
    assert store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE) == "won"
    store.close()


def test_completed_work_is_done_until_its_ttl_passes(database_url: str) -> None:
    clock = Clock()
    store = SqlStore(database_url, clock=clock)
    assert store.claim_work("teams:activity:a:1", lease_seconds=LEASE) == "won"
    store.complete("teams:activity:a:1", ttl_seconds=3600)
    clock.advance(seconds=LEASE * 10)
    assert store.claim_work("teams:activity:a:1", lease_seconds=LEASE) == "done"
    assert store.claim("teams:activity:a:1") is False
    clock.advance(seconds=3600)
    assert store.claim_work("teams:activity:a:1", lease_seconds=LEASE) == "won"
    store.close()


def test_a_plain_claim_reads_as_done(store: SqlStore) -> None:
    assert store.claim("Ev-plain")
    assert store.claim_work("Ev-plain", lease_seconds=LEASE) == "done"


def test_completing_a_key_nobody_holds_any_more_still_marks_it_done(database_url: str) -> None:
    clock = Clock()
    store = SqlStore(database_url, clock=clock)
    store.complete("Ev-late")
    assert store.claim_work("Ev-late", lease_seconds=LEASE) == "done"
    assert store.claim_work("Ev-slow", lease_seconds=LEASE) == "won"
    clock.advance(seconds=LEASE + 1)
    store.purge(older_than=clock.now - timedelta(days=1))
    store.complete("Ev-slow")
    assert store.claim_work("Ev-slow", lease_seconds=LEASE) == "done"
    store.close()


def test_unfinished_lists_lapsed_work_under_the_prefix_only(database_url: str) -> None:
    clock = Clock()
    store = SqlStore(database_url, clock=clock)
    store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE, work='{"text": "first"}')
    clock.advance(seconds=1)
    store.claim_work("slack:message:C1:2.0", lease_seconds=LEASE, work='{"text": "second"}')
    store.claim_work("slack:message:C1:3.0", lease_seconds=LEASE, work='{"text": "answered"}')
    store.complete("slack:message:C1:3.0")
    store.claim_work("slack:message:C1:4.0", lease_seconds=LEASE)  # nothing to redo it from
    store.claim_work("teams:activity:a:1", lease_seconds=LEASE, work="{}")
    store.claim_work("slack%message", lease_seconds=LEASE, work="{}")  # LIKE wildcards are literal
    assert store.unfinished("slack:message:") == []

    clock.advance(seconds=LEASE + 1)
    lapsed = store.unfinished("slack:message:")
    assert [(w.key, json.loads(w.work)["text"]) for w in lapsed] == [
        ("slack:message:C1:1.0", "first"),
        ("slack:message:C1:2.0", "second"),
    ]
    assert lapsed[0].lease_expired_at.tzinfo is not None
    assert [w.key for w in store.unfinished("slack:message:", limit=1)] == ["slack:message:C1:1.0"]

    assert store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE, work=lapsed[0].work) == "won"
    assert [w.key for w in store.unfinished("slack:message:")] == ["slack:message:C1:2.0"]
    store.complete("slack:message:C1:1.0")
    assert store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE) == "done"
    store.close()


def test_sweeps_keep_lapsed_work_a_day_for_recovery(database_url: str) -> None:
    clock = Clock()
    store = SqlStore(database_url, clock=clock)
    store.claim_work("slack:message:C1:1.0", lease_seconds=LEASE, work="{}")
    store.claim("Ev-old", ttl_seconds=60)
    clock.advance(hours=2)
    store.purge(older_than=clock.now - timedelta(days=180))
    assert [w.key for w in store.unfinished("slack:")] == ["slack:message:C1:1.0"]
    assert store.claim("Ev-old") is True  # ordinary expired claims are swept as before

    clock.advance(days=1)
    store.purge(older_than=clock.now - timedelta(days=180))
    assert store.unfinished("slack:") == []
    store.close()


def test_replicas_racing_for_one_lapsed_lease_give_it_to_exactly_one(database_url: str) -> None:
    clock = Clock()
    store = SqlStore(database_url, clock=clock)
    assert store.claim_work("Ev-race", lease_seconds=LEASE, work="{}") == "won"
    clock.advance(seconds=LEASE + 1)
    start = Barrier(8)

    def contend(_: int) -> str:
        start.wait(timeout=30)
        return store.claim_work("Ev-race", lease_seconds=LEASE, work="{}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(contend, range(8)))
    assert sorted(results) == ["busy"] * 7 + ["won"]
    store.close()


def test_work_leased_by_a_process_killed_with_sigkill_is_redone_once(database_url: str) -> None:
    worker = textwrap.dedent(
        """
        import sys, time
        from bot.store import SqlStore
        store = SqlStore(sys.argv[1])
        assert store.claim_work("slack:message:C9:9.0", lease_seconds=1, work='{"text": "Can a DO become a CMO?"}') == "won"
        assert store.claim_work("slack:message:C9:8.0", lease_seconds=1, work='{"text": "answered"}') == "won"
        store.complete("slack:message:C9:8.0")
        print("claimed", flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", worker, database_url], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "claimed"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    survivor = SqlStore(database_url)
    time.sleep(1.2)  # the dead worker's lease lapses
    (left,) = survivor.unfinished("slack:message:")
    assert left.key == "slack:message:C9:9.0"
    assert json.loads(left.work) == {"text": "Can a DO become a CMO?"}
    assert survivor.claim_work(left.key, lease_seconds=LEASE, work=left.work) == "won"
    assert survivor.claim_work(left.key, lease_seconds=LEASE, work=left.work) == "busy"
    assert survivor.claim_work("slack:message:C9:8.0", lease_seconds=LEASE) == "done"
    survivor.close()


def test_leases_asked_for_at_once_each_get_their_own_answer(store: SqlStore) -> None:
    """On SQLite a burst of leases is committed together; every caller still learns whether it won."""
    store.claim_work("teams:activity:a:1:done", lease_seconds=LEASE)
    store.complete("teams:activity:a:1:done")
    keys = [f"slack:message:C{n % 8}:1.0" for n in range(32)] + ["teams:activity:a:1:done"] * 4
    start = Barrier(len(keys))

    def lease(key: str) -> str:
        start.wait(timeout=30)
        return store.claim_work(key, lease_seconds=LEASE, work=json.dumps({"key": key}))

    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        results = list(pool.map(lease, keys))
    by_key: dict[str, list[str]] = {}
    for key, result in zip(keys, results):
        by_key.setdefault(key, []).append(result)
    for key, outcomes in by_key.items():
        if key.endswith(":done"):
            assert outcomes == ["done"] * 4
        else:
            assert sorted(outcomes) == ["busy", "busy", "busy", "won"]


def test_replicas_leasing_the_same_messages_at_once_each_win_every_message_exactly_once(database_url: str) -> None:
    """Two replicas (stores of their own; on SQLite each commits its burst of leases in one transaction) are
    asked for the same 40 messages at once, in opposite orders: every message goes to exactly one, no caller fails."""
    replicas = [SqlStore(database_url), SqlStore(database_url)]
    try:
        for burst in range(3):
            keys = [f"slack:message:C{n}:{burst}.0" for n in range(40)]
            jobs = [(0, key) for key in keys] + [(1, key) for key in reversed(keys)]
            start = Barrier(len(jobs))

            def lease(job: tuple[int, str]) -> tuple[str, str]:
                replica, key = job
                start.wait(timeout=30)
                return key, replicas[replica].claim_work(key, lease_seconds=LEASE, work=json.dumps({"key": key}))

            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                outcomes = list(pool.map(lease, jobs))
            assert {result for _, result in outcomes} <= {"won", "busy"}
            assert sorted(key for key, result in outcomes if result == "won") == sorted(keys)
    finally:
        for replica in replicas:
            replica.close()
