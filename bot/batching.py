"""Concurrent questions answered together: one encode call per batch, and repeated questions from a cache.

The model is the expensive part of an answer. `AnswerBatcher` answers the
questions that arrive while a batch is being answered as the next batch, with
one `AnswerEngine.answer_many` call (one encode call) on a worker thread: under
load, batches form by themselves, and an idle batcher answers a lone question
at once (no waiting for company: the model's cost per token barely falls with
batch size, so a wait would cost a lone question more than it saves).
`workers` batches run at once: the ONNX session computes each call on its own
share of the cores (half of them), so two calls side by side use the machine
as concurrent unbatched calls would, and batching never does worse than them.

Each batch takes the live engine once, so a hot reload of the index
(`EngineHolder`) never splits a batch across two indexes. The cache keeps the
*retrieval result* of a question (its passages, confidence and decision) for
the engine that produced it and is emptied when the engine changes; every
answer, cached or not, gets a fresh `answer_id`, because feedback and the
question log refer to that id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace

from bot.answer import Answer, new_answer_id
from bot.engine import AnswerEngine
from bot.query import clean_question
from index.priority import set_thread_priority

log = logging.getLogger(__name__)

WINDOW_SECONDS = 0.0
MAX_BATCH = 64
CACHE_SIZE = 2048
WORKERS = 2
WORKER_NICENESS = 10
"""The answer workers' default nice value (`Settings.answer_worker_niceness` says why)."""


class AnswerCache:
    """Least-recently-used answers of one engine, stored without their `answer_id`; thread-safe."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._engine: AnswerEngine | None = None
        self._items: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _for(self, engine: AnswerEngine) -> None:
        if engine is not self._engine:
            self._items.clear()
            self._engine = engine

    def get(self, engine: AnswerEngine, key: str) -> Answer | None:
        with self._lock:
            self._for(engine)
            cached = self._items.get(key)
            if cached is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return replace(cached, answer_id=new_answer_id())

    def put(self, engine: AnswerEngine, key: str, answer: Answer) -> None:
        if self.size <= 0:
            return
        stored = replace(answer, answer_id="")
        with self._lock:
            self._for(engine)
            self._items[key] = stored
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class AnswerBatcher:
    """Answers questions submitted from any thread or event loop, a batch at a time.

    `submit` returns a `concurrent.futures.Future` (await it with `asyncio.wrap_future`);
    `answer` blocks until the answer is ready, and answers on the calling thread when
    nothing else is being answered and no `window` was asked for (a hand-off to a worker
    would only add two thread switches). An error while answering a batch is set on every question of that batch
    that was not answered from the cache.
    """

    def __init__(
        self,
        engine: Callable[[], AnswerEngine],
        *,
        window: float = WINDOW_SECONDS,
        max_batch: int = MAX_BATCH,
        cache_size: int = CACHE_SIZE,
        workers: int = WORKERS,
        niceness: int = WORKER_NICENESS,
    ) -> None:
        self._engine = engine
        self.niceness = niceness
        self.window = window
        self.max_batch = max_batch
        self.workers = max(1, workers)
        self.cache = AnswerCache(cache_size)
        self._pending: list[tuple[str, Future[Answer]]] = []
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        """Worker threads not answering: starting, waiting for questions or gathering a batch."""
        self._answering = 0
        """Batches being answered, by workers or by callers of `answer`: at most `workers`."""
        self._closed = False
        self.batches = 0

    def submit(self, question: str) -> Future[Answer]:
        future: Future[Answer] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the answer batcher is closed")
            self._pending.append((question, future))
            if self._idle == 0 and len(self._threads) < self.workers:
                thread = threading.Thread(target=self._run, name=f"answer-batcher-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                self._idle += 1
                thread.start()
            self._ready.notify()
        return future

    def answer(self, question: str) -> Answer:
        with self._ready:
            alone = self.window <= 0 and not self._pending and self._answering == 0 and not self._closed
            if alone:
                self._answering += 1
                self.batches += 1
        if not alone:
            return self.submit(question).result()
        future: Future[Answer] = Future()
        try:
            self._answer([(question, future)])
        finally:
            self._done()
        return future.result()

    def close(self) -> None:
        """Answer what is queued, then stop the workers."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()

    def _can_take(self) -> bool:
        return bool(self._pending) and self._answering < self.workers

    def _next_batch(self, idle: bool) -> list[tuple[str, Future[Answer]]] | None:
        with self._ready:
            while True:
                while not self._can_take():
                    if self._closed and not self._pending:
                        self._idle -= 1
                        return None
                    self._ready.wait()
                    idle = True
                if idle and self.window > 0:
                    # Asked for: the first question after a quiet spell waits a moment for company.
                    deadline = time.monotonic() + self.window
                    while len(self._pending) < self.max_batch and not self._closed:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self._ready.wait(left)
                if self._can_take():  # (another worker may have taken the questions meanwhile)
                    break
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            self._idle -= 1
            self._answering += 1
            self.batches += 1
            return batch

    def _done(self, worker: bool = False) -> None:
        with self._ready:
            self._answering -= 1
            self._idle += worker
            self._ready.notify_all()

    def _run(self) -> None:
        _lower_priority(self.niceness)
        idle = True
        while (batch := self._next_batch(idle)) is not None:
            try:
                self._answer(batch)
            finally:
                self._done(worker=True)
            idle = False

    def _answer(self, batch: list[tuple[str, Future[Answer]]]) -> None:
        live = [(q, f) for q, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            engine = self._engine()
        except Exception as exc:  # noqa: BLE001 - handed to every waiting future: a caller must never wait forever
            for _, future in live:
                future.set_exception(exc)
            return
        todo: dict[str, list[Future[Answer]]] = {}
        for question, future in live:
            key = clean_question(question, engine.max_chars)
            cached = self.cache.get(engine, key)
            if cached is not None:
                future.set_result(cached)
            else:
                todo.setdefault(key, []).append(future)
        if not todo:
            return
        keys = list(todo)
        try:
            answers = engine.answer_many(keys)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting future: a caller must never wait forever
            log.warning("batch failed", extra={"questions": len(keys), "error": type(exc).__name__})
            for futures in todo.values():
                for future in futures:
                    future.set_exception(exc)
            return
        for key, answer in zip(keys, answers, strict=True):
            self.cache.put(engine, key, answer)
            first, *others = todo[key]
            first.set_result(answer)
            for future in others:  # the same question twice in one batch: one retrieval, two answers
                future.set_result(replace(answer, answer_id=new_answer_id()))


def _lower_priority(niceness: int) -> None:
    """Run this worker thread at a lower CPU priority than the event loop and the database threads.

    Their model calls keep the cores of a small machine busy under load, and a
    platform's ack (a few milliseconds of work) waited for the scheduler behind
    them; a lower priority costs the workers nothing when a core is free.
    """
    if niceness > 0:
        set_thread_priority(niceness)
