"""How this process takes its turns at a SQLite database: a fair queue, and leases written in batches.

SQLite runs one write transaction at a time. Left to SQLite's busy handler, which sleeps up to
100 ms between looks, a 1 ms write waited whole sleeps under load; so this process's threads
queue here instead (other processes still meet busy_timeout). PostgreSQL needs neither.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.store.records import ClaimResult


class Turns:
    """SQLite's one transaction at a time, handed out in this process in order of arrival, with the
    transactions a platform is waiting on (`urgent`: a lease or a vote before Slack's ack, a readiness
    probe) served before bookkeeping done after an answer (the question log, threads, completions).

    A plain lock wakes whichever waiter the scheduler picks, so under load a write could wait behind
    dozens of later ones; and first come first served alone put an ack's lease behind every answer's
    log writes.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: tuple[deque[threading.Lock], deque[threading.Lock]] = (deque(), deque())

    @contextmanager
    def turn(self, urgent: bool) -> Iterator[None]:
        with self._mutex:
            gate = None
            if self._held:
                gate = threading.Lock()
                gate.acquire()
                self._waiting[0 if urgent else 1].append(gate)
            self._held = True
        if gate is not None:
            gate.acquire()  # released by the holder before us, which hands its turn straight over
        try:
            yield
        finally:
            with self._mutex:
                queue = self._waiting[0] or self._waiting[1]
                if queue:
                    queue.popleft().release()
                else:
                    self._held = False


@dataclass
class LeaseRequest:
    """One caller's `claim_work`, waiting in `result` for the batch it joined to commit."""

    key: str
    lease_seconds: int
    work: str | None
    result: Future[ClaimResult] = field(default_factory=Future)


class LeaseWriter:
    """Leases asked for at about the same moment, taken together in one transaction by one thread.

    A burst of Slack events (members answering the same batch of replies, say) would otherwise be
    acknowledged one fsync after another. The thread takes every request queued while it was
    committing the last ones; each caller waits on its own future. `write` commits one batch and
    returns each request's result, in order.
    """

    def __init__(self, write: Callable[[list[LeaseRequest]], list[ClaimResult]]) -> None:
        self._write = write
        self._queue: list[LeaseRequest] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, request: LeaseRequest) -> Future[ClaimResult]:
        with self._ready:
            if self._closed:
                raise RuntimeError("the state store is closed")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lease-writer", daemon=True)
                self._thread.start()
            self._queue.append(request)
            self._ready.notify()
        return request.result

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
            try:
                results = self._write(batch)
            except Exception as error:  # noqa: BLE001 - each caller raises it from its own future, none waits forever
                for request in batch:
                    request.result.set_exception(error)
            else:
                for request, result in zip(batch, results, strict=True):
                    request.result.set_result(result)

    def close(self) -> None:
        """Refuse new leases, and return once those already asked for are written."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
