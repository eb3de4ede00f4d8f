"""Synthetic corpora of 1k, 10k and 100k chunks made from the guide's sentences: build time, query latency, recall.

Each synthetic chunk is three of the guide's sentences, five chunks to a section.
Sentence vectors are the model's own (the guide's sentences, embedded once);
a chunk's vector is the normalised sum of its sentences' vectors, because
embedding 100k chunks with the model would take far longer than the whole
benchmark: the model's measured rate gives that time as an estimate instead.
BM25 and FAISS are built for real on every corpus.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from bot.engine import AnswerEngine
from bench.stats import Sample
from index import dense, lexical
from index.guide_index import GuideIndex
from index.persist import Manifest
from knowledge.chunking import Chunk

SENTENCES_PER_CHUNK = 3
CHUNKS_PER_SECTION = 5


@dataclass
class ScaleResult:
    chunks: int
    bm25_build: float
    flat_build: float
    hnsw_build: float
    embed_estimate: float
    flat_answer: Sample
    hnsw_answer: Sample
    flat_search: Sample
    hnsw_search: Sample
    recall_at_10: float


def synthetic_index(base: GuideIndex, n: int, seed: int = 7) -> tuple[GuideIndex, np.ndarray, float]:
    """The corpus as a `GuideIndex` (exact FAISS), its chunk vectors, and the BM25 build time."""
    rng = np.random.default_rng(seed)
    pool = [s for c in base.chunks for s in c.sentences]
    pool_vectors = np.asarray(base.sentence_vectors, dtype=np.float32)
    picks = rng.integers(0, len(pool), size=(n, SENTENCES_PER_CHUNK))
    chunks = [
        Chunk(
            id=f"syn-{i}",
            document_id="synthetic",
            document_title="Synthetic guide",
            heading_trail=(f"Section {i // CHUNKS_PER_SECTION}",),
            position=i,
            text=" ".join(pool[j] for j in row),
            sentences=tuple(pool[j] for j in row),
        )
        for i, row in enumerate(picks)
    ]
    sentence_vectors = pool_vectors[picks.reshape(-1)]
    vectors = pool_vectors[picks].sum(axis=1)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    bm25 = lexical.build_lexical([c.embed_text for c in chunks])
    bm25_build = time.perf_counter() - started
    manifest = Manifest("synthetic", vectors.shape[1], "synthetic", "", time.time(), n, 1, "IndexFlatIP")
    index = GuideIndex(
        path=base.path,
        manifest=manifest,
        chunks=chunks,
        dense=dense.build_dense(vectors, hnsw_threshold=n + 1),
        lexical=bm25,
        sentence_vectors=sentence_vectors,
        sentence_chunk=np.repeat(np.arange(n), SENTENCES_PER_CHUNK),
        bank_in=base.bank_in,
        bank_in_sections=base.bank_in_sections,
        bank_out=base.bank_out,
        acronyms=base.acronyms,
        abstain=base.abstain,
        topic_terms=base.topic_terms,
        # Synthetic sentences have no heading of their own: their vectors stand in for the in-context ones.
        sentence_context_vectors=sentence_vectors,
        bank_in_sentences=np.full(len(base.bank_in), -1, dtype=np.int64),
        ranker=base.ranker,
        term_counts=base.term_counts,
    )
    return index, vectors, bm25_build


def measure(base: AnswerEngine, n: int, questions: list[str], rounds: int, hnsw_threshold: int, embed_rate: float) -> ScaleResult:
    index, vectors, bm25_build = synthetic_index(base.index, n)
    started = time.perf_counter()
    dense.build_dense(vectors, hnsw_threshold=n + 1)
    flat_build = time.perf_counter() - started
    started = time.perf_counter()
    hnsw = dense.build_dense(vectors, hnsw_threshold=min(hnsw_threshold, n))
    hnsw_build = time.perf_counter() - started

    flat_engine = AnswerEngine(index, base.embedder, top_k=base.top_k, max_chars=base.max_chars)
    hnsw_index = GuideIndex(**{**{f: getattr(index, f) for f in index.__dataclass_fields__}, "dense": hnsw})
    hnsw_engine = AnswerEngine(hnsw_index, base.embedder, top_k=base.top_k, max_chars=base.max_chars)
    query_vectors = flat_engine.encode(questions)

    timings: dict[str, list[float]] = {"flat": [], "hnsw": [], "flat_search": [], "hnsw_search": []}
    for r in range(rounds):
        pairs = [("flat", flat_engine), ("hnsw", hnsw_engine)]
        for q, v in zip(questions, query_vectors):
            for name, engine in pairs if r % 2 == 0 else pairs[::-1]:
                t0 = time.perf_counter()
                engine.answer(q)
                t1 = time.perf_counter()
                engine.evidence(q, v)
                t2 = time.perf_counter()
                timings[name].append(t1 - t0)
                timings[f"{name}_search"].append(t2 - t1)

    _, exact = dense.search_dense(index.dense, query_vectors, 10)
    _, approx = dense.search_dense(hnsw, query_vectors, 10)
    recall = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)]))
    return ScaleResult(
        chunks=n,
        bm25_build=bm25_build,
        flat_build=flat_build,
        hnsw_build=hnsw_build,
        embed_estimate=n / embed_rate if embed_rate > 0 else float("nan"),
        flat_answer=Sample.of(timings["flat"]),
        hnsw_answer=Sample.of(timings["hnsw"]),
        flat_search=Sample.of(timings["flat_search"]),
        hnsw_search=Sample.of(timings["hnsw_search"]),
        recall_at_10=recall,
    )


def embed_rate(engine: AnswerEngine, n: int = 128) -> float:
    """Chunks per second the model embeds (synthetic chunk texts, one batch call)."""
    index, _, _ = synthetic_index(engine.index, n, seed=11)
    texts = [c.embed_text for c in index.chunks]
    engine.embedder.encode(texts[:8])
    started = time.perf_counter()
    engine.embedder.encode(texts)
    return n / (time.perf_counter() - started)
