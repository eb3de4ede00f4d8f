"""Concurrent questions share one encode call; repeated ones come from a cache; reloads stay safe."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from bot.answer import Answer, new_answer_id
from bot.batching import AnswerBatcher, AnswerCache
from bot.engine import AnswerEngine
from bot.indexing import build_index
from bot.service import EngineHolder, Guidebot, Inbound
from bot.settings import Settings
from bot.store import SqlStore
from index.embedder import HashingEmbedder
from index.guide_index import load_index

QUESTIONS = [
    "What does a VPMA do?",
    "What is the CPE credential?",
    "What does a chief quality officer do?",
    "Which degrees help physicians become executives?",
    "How do I start on the path to CMO?",
]


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting encode calls (the model call that batching saves)."""

    def __init__(self) -> None:
        super().__init__(256)
        self.name = "hashing-256"
        self.calls = 0
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls += 1
        return super().encode(texts)


@pytest.fixture()
def indexed(hashing_settings: Settings) -> tuple[Settings, CountingEmbedder]:
    embedder = CountingEmbedder()
    build_index(hashing_settings, embedder)
    embedder.calls = 0
    return hashing_settings, embedder


@pytest.fixture()
def engine(indexed: tuple[Settings, CountingEmbedder]) -> AnswerEngine:
    settings, embedder = indexed
    return AnswerEngine(load_index(settings.index_dir), embedder)


class FakeEngine:
    """Stands in for `AnswerEngine`: answers name the engine, or the batch fails."""

    max_chars = 2000

    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error
        self.batches: list[list[str]] = []

    def answer_many(self, questions: list[str]) -> list[Answer]:
        self.batches.append(list(questions))
        if self.error is not None:
            raise self.error
        return [Answer(question=q, message=self.name, answer_id=new_answer_id()) for q in questions]


def test_concurrent_questions_are_answered_in_one_encode_call(engine: AnswerEngine):
    embedder = engine.embedder
    batcher = AnswerBatcher(lambda: engine, window=5.0, max_batch=len(QUESTIONS))
    futures = [batcher.submit(q) for q in QUESTIONS]
    answers = [f.result(timeout=30) for f in futures]
    batcher.close()
    assert embedder.calls == 1 and batcher.batches == 1
    assert [a.question for a in answers] == QUESTIONS
    assert len({a.answer_id for a in answers}) == len(QUESTIONS)
    for question, answer in zip(QUESTIONS, answers):
        alone = engine.answer(question)
        assert [p.chunk_id for p in answer.passages] == [p.chunk_id for p in alone.passages]
        assert answer.abstained == alone.abstained


def test_questions_from_many_threads_each_get_their_own_answer(engine: AnswerEngine):
    batcher = AnswerBatcher(lambda: engine, window=0.05)
    asked = QUESTIONS * 4
    results: dict[int, Answer] = {}

    def ask(i: int) -> None:
        results[i] = batcher.answer(asked[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(asked))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    batcher.close()
    assert [results[i].question for i in range(len(asked))] == asked
    assert len({a.answer_id for a in results.values()}) == len(asked)


def test_a_repeated_question_comes_from_the_cache_with_a_fresh_answer_id(engine: AnswerEngine):
    batcher = AnswerBatcher(lambda: engine, window=0.0)
    first = batcher.answer("What does a VPMA do?")
    calls = engine.embedder.calls
    again = batcher.answer("  What does a VPMA   do?")
    batcher.close()
    assert engine.embedder.calls == calls
    assert batcher.cache.hits == 1
    assert again.passages == first.passages and again.confidence == first.confidence
    assert again.answer_id and again.answer_id != first.answer_id


def test_the_same_question_twice_in_one_batch_gets_two_answer_ids():
    fake = FakeEngine("a")
    batcher = AnswerBatcher(lambda: fake, window=5.0, max_batch=2)
    one, two = batcher.submit("What is a CMO?"), batcher.submit("What is a CMO?")
    a, b = one.result(timeout=10), two.result(timeout=10)
    batcher.close()
    assert fake.batches == [["What is a CMO?"]]
    assert a.message == b.message == "a" and a.answer_id != b.answer_id


def test_an_error_reaches_every_waiter_of_the_batch():
    boom = RuntimeError("model crashed")
    batcher = AnswerBatcher(lambda: FakeEngine("a", error=boom), window=5.0, max_batch=3)
    futures = [batcher.submit(q) for q in QUESTIONS[:3]]
    for future in futures:
        with pytest.raises(RuntimeError, match="model crashed"):
            future.result(timeout=10)
    batcher.close()


def test_an_engine_that_cannot_load_fails_the_batch_not_the_batcher():
    engines = iter([OSError("index missing"), FakeEngine("b")])

    def engine():
        item = next(engines)
        if isinstance(item, Exception):
            raise item
        return item

    batcher = AnswerBatcher(engine, window=0.0)
    with pytest.raises(OSError, match="index missing"):
        batcher.answer("What is a CMO?")
    assert batcher.answer("What is a CMO?").message == "b"
    batcher.close()


def test_a_batch_uses_one_engine_and_a_reload_empties_the_cache():
    old, new = FakeEngine("old"), FakeEngine("new")
    live = [old]
    calls = []

    def engine():
        calls.append(live[0])
        return live[0]

    batcher = AnswerBatcher(engine, window=5.0, max_batch=3)
    first = [f.result(timeout=10) for f in [batcher.submit(q) for q in QUESTIONS[:3]]]
    live[0] = new
    second = [f.result(timeout=10) for f in [batcher.submit(q) for q in QUESTIONS[:3]]]
    batcher.close()
    assert {a.message for a in first} == {"old"} and {a.message for a in second} == {"new"}
    assert calls == [old, new]
    assert len(new.batches) == 1  # answered afresh, not from the old engine's cache


def test_a_reload_mid_stream_answers_every_question(indexed: tuple[Settings, CountingEmbedder]):
    settings, embedder = indexed
    holder = EngineHolder(settings, embedder, check_every=0.0)
    batcher = AnswerBatcher(holder.engine, window=0.001, max_batch=4)
    futures = [batcher.submit(f"{q} ({i})") for i in range(10) for q in QUESTIONS]
    (settings.documents_dir / "extra.md").write_text(
        "---\nid: extra\ntitle: Extra\n---\n# Extra\n\n## Boards\n\nBoard members oversee the health system's strategy.\n",
        encoding="utf-8",
    )
    build_index(settings, embedder)
    futures += [batcher.submit("Who oversees the health system's strategy?")]
    answers = [f.result(timeout=60) for f in futures]
    batcher.close()
    assert len({a.answer_id for a in answers}) == len(futures)
    assert holder.engine().index.path == load_index(settings.index_dir).path


def test_the_cache_forgets_the_least_recently_used_question():
    engine = FakeEngine("a")
    cache = AnswerCache(size=2)
    for q in ("one", "two"):
        cache.put(engine, q, Answer(question=q, answer_id=new_answer_id()))  # type: ignore[arg-type]
    assert cache.get(engine, "one") is not None  # "two" is now the oldest
    cache.put(engine, "three", Answer(question="three", answer_id="x"))  # type: ignore[arg-type]
    assert cache.get(engine, "two") is None
    assert cache.get(engine, "one").question == "one"  # type: ignore[union-attr]
    assert cache.get(engine, "three").answer_id not in ("", "x")  # type: ignore[union-attr]
    assert cache.get(FakeEngine("b"), "one") is None  # type: ignore[arg-type]


async def test_respond_async_batches_concurrent_members_and_logs_each(
    indexed: tuple[Settings, CountingEmbedder], tmp_path: Path
):
    settings, embedder = indexed
    guidebot = Guidebot(settings, EngineHolder(settings, embedder), SqlStore(f"sqlite:///{tmp_path / 'state.sqlite3'}"))
    guidebot.engines.engine()
    embedder.calls = 0
    replies = await asyncio.gather(
        *(guidebot.respond_async(Inbound(q, platform="slack", user_id=f"U{i}")) for i, q in enumerate(QUESTIONS))
    )
    guidebot.batcher.close()
    assert [r.question for r in replies] == QUESTIONS  # type: ignore[union-attr]
    logged = {r.answer_id for r in guidebot.store.questions()}
    assert logged == {r.answer_id for r in replies}  # type: ignore[union-attr]
    assert embedder.calls <= len(QUESTIONS)


def test_a_lone_question_is_answered_on_the_asking_thread_without_waiting_for_company():
    seen: list[threading.Thread] = []

    class Recording(FakeEngine):
        def answer_many(self, questions: list[str]) -> list[Answer]:
            seen.append(threading.current_thread())
            return super().answer_many(questions)

    batcher = AnswerBatcher(lambda: Recording("a"))
    assert batcher.answer("What is a CMO?").message == "a"
    batcher.close()
    assert seen == [threading.current_thread()]


def test_two_workers_answer_two_batches_at_once():
    """The model's session uses half the cores per call: two batches side by side use them all."""
    inside = threading.Event()
    both_inside = threading.Barrier(2, timeout=10)

    class Overlapping(FakeEngine):
        def answer_many(self, questions: list[str]) -> list[Answer]:
            inside.set()
            both_inside.wait()  # breaks (and the batch fails) unless another batch is being answered too
            return super().answer_many(questions)

    engine = Overlapping("a")
    batcher = AnswerBatcher(lambda: engine, workers=2)
    first = batcher.submit(QUESTIONS[0])
    assert inside.wait(10)
    second = batcher.submit(QUESTIONS[1])
    assert first.result(timeout=20).message == second.result(timeout=20).message == "a"
    batcher.close()
    assert sorted(engine.batches) == sorted([[QUESTIONS[0]], [QUESTIONS[1]]])
