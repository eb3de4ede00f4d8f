"""Concurrent questions answered together: one encode call per batch, and repeated questions from a cache.

The model is the expensive part of an answer, and it costs little more for
thirty questions than for one. `AnswerBatcher` gathers the questions that
arrive while the previous batch is being answered (or within `window`
seconds of the first one, when it was idle) and answers them with one
`AnswerEngine.answer_many` call on one worker thread.

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

log = logging.getLogger(__name__)

WINDOW_SECONDS = 0.002
MAX_BATCH = 64
CACHE_SIZE = 2048


class AnswerCache:
    """Least-recently-used answers of one engine, stored without their `answer_id`."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._engine: AnswerEngine | None = None
        self._items: OrderedDict[str, Answer] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def _for(self, engine: AnswerEngine) -> None:
        if engine is not self._engine:
            self._items.clear()
            self._engine = engine

    def get(self, engine: AnswerEngine, key: str) -> Answer | None:
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
        self._for(engine)
        self._items[key] = replace(answer, answer_id="")
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class AnswerBatcher:
    """Answers questions submitted from any thread or event loop, a batch at a time.

    `submit` returns a `concurrent.futures.Future` (await it with `asyncio.wrap_future`);
    `answer` blocks until the answer is ready. An error while answering a batch is set on
    every question of that batch that was not answered from the cache.
    """

    def __init__(
        self,
        engine: Callable[[], AnswerEngine],
        *,
        window: float = WINDOW_SECONDS,
        max_batch: int = MAX_BATCH,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._engine = engine
        self.window = window
        self.max_batch = max_batch
        self.cache = AnswerCache(cache_size)
        self._pending: list[tuple[str, Future[Answer]]] = []
        self._ready = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
        self.batches = 0

    def submit(self, question: str) -> Future[Answer]:
        future: Future[Answer] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the answer batcher is closed")
            self._pending.append((question, future))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="answer-batcher", daemon=True)
                self._worker.start()
            self._ready.notify()
        return future

    def answer(self, question: str) -> Answer:
        return self.submit(question).result()

    def close(self) -> None:
        """Answer what is queued, then stop the worker."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join()

    def _next_batch(self, idle: bool) -> list[tuple[str, Future[Answer]]] | None:
        with self._ready:
            while not self._pending and not self._closed:
                self._ready.wait()
                idle = True
            if not self._pending:
                return None
            if idle:
                # The first question after a quiet spell waits a moment for company.
                deadline = time.monotonic() + self.window
                while len(self._pending) < self.max_batch and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._ready.wait(left)
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            return batch

    def _run(self) -> None:
        idle = True
        while (batch := self._next_batch(idle)) is not None:
            self._answer(batch)
            idle = False

    def _answer(self, batch: list[tuple[str, Future[Answer]]]) -> None:
        live = [(q, f) for q, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        self.batches += 1
        try:
            engine = self._engine()
        except Exception as exc:
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
        except Exception as exc:
            log.warning("batch failed", extra={"questions": len(keys), "error": type(exc).__name__})
            for futures in todo.values():
                for future in futures:
                    future.set_exception(exc)
            return
        for key, answer in zip(keys, answers):
            self.cache.put(engine, key, answer)
            first, *others = todo[key]
            first.set_result(answer)
            for future in others:  # the same question twice in one batch: one retrieval, two answers
                future.set_result(replace(answer, answer_id=new_answer_id()))
