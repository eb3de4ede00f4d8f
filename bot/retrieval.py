"""Hybrid retrieval over the guide: dense (FAISS) and BM25 ranks fused, then passages chosen.

Besides ranking, a search returns the evidence the abstention model reads: how
close the question is to the guide's sentences and to the bank of in-scope and
out-of-scope questions, the margin between the best two sections, and whether
the dense and lexical rankings agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index import dense as dense_ops
from index import lexical
from index.embedder import Embedder
from index.guide_index import GuideIndex
from bot.query import focus_of
from knowledge.acronyms import expand_acronyms

RRF_K = 10
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.6
CANDIDATES = 50
MERGE_MAX_CHARS = 1600

FEATURES = (
    "dense_top",
    "sentence_top",
    "bank_in_top",
    "bank_out_top",
    "in_minus_out",
    "margin",
    "agreement",
    "lexical_top",
    "coverage",
)


@dataclass(frozen=True)
class Evidence:
    order: tuple[int, ...]
    fused: dict[int, float]
    dense: dict[int, float]
    best_sentence: dict[int, tuple[str, float]]
    features: dict[str, float]

    def vector(self) -> np.ndarray:
        return np.array([self.features[name] for name in FEATURES], dtype=np.float64)


def retrieval_text(question: str, acronyms: dict[str, str]) -> str:
    return expand_acronyms(question, acronyms)


def encode_questions(embedder: Embedder, questions: list[str], acronyms: dict[str, str]) -> np.ndarray:
    """One encode call for a batch: full text plus, for long ones, the asking sentence."""
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    for question in questions:
        expanded = retrieval_text(question, acronyms)
        focus = focus_of(expanded)
        start = len(texts)
        texts.append(expanded)
        if focus:
            texts.append(focus)
        spans.append((start, len(texts)))
    vectors = embedder.encode(texts)
    out = np.zeros((len(questions), vectors.shape[1] if len(vectors) else embedder.dim), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        combined = vectors[start:end].sum(axis=0)
        norm = float(np.linalg.norm(combined)) or 1.0
        out[row] = combined / norm
    return out


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    ordered = sorted(scores, key=lambda i: -scores[i])
    return {idx: rank for rank, idx in enumerate(ordered)}


def search(
    index: GuideIndex,
    question: str,
    q_vec: np.ndarray,
    *,
    exclude_bank_in: int | None = None,
    exclude_bank_out: int | None = None,
) -> Evidence:
    expanded = retrieval_text(question, index.acronyms)
    scores, ids = dense_ops.search_dense(index.dense, q_vec[None, :], CANDIDATES)
    dense_scores = {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    bm25_all = lexical.score_all(index.lexical, expanded)
    top_lex = np.argsort(-bm25_all)[:CANDIDATES]
    lex_scores = {int(i): float(bm25_all[i]) for i in top_lex if bm25_all[i] > 0}

    dense_rank = _ranks(dense_scores)
    lex_rank = _ranks(lex_scores)
    fused: dict[int, float] = {}
    for idx in set(dense_rank) | set(lex_rank):
        score = 0.0
        if idx in dense_rank:
            score += DENSE_WEIGHT / (RRF_K + dense_rank[idx] + 1)
        if idx in lex_rank:
            score += LEXICAL_WEIGHT / (RRF_K + lex_rank[idx] + 1)
        fused[idx] = score
    order = tuple(sorted(fused, key=lambda i: -fused[i]))

    best_sentence: dict[int, tuple[str, float]] = {}
    sentence_top = -1.0
    for idx in order[:10]:
        start, end = index.sentence_rows(idx)
        if end <= start:
            continue
        sims = np.asarray(index.sentence_vectors[start:end], dtype=np.float32) @ q_vec
        best = int(np.argmax(sims))
        best_sentence[idx] = (index.chunks[idx].sentences[best], float(sims[best]))
        sentence_top = max(sentence_top, float(sims[best]))

    bank_in = index.bank_in @ q_vec if len(index.bank_in) else np.array([0.0])
    if exclude_bank_in is not None and len(bank_in) > 1:
        bank_in = np.delete(bank_in, exclude_bank_in)
    bank_out = index.bank_out @ q_vec if len(index.bank_out) else np.array([0.0])
    if exclude_bank_out is not None and len(bank_out) > 1:
        bank_out = np.delete(bank_out, exclude_bank_out)

    dense_sorted = sorted(dense_scores.values(), reverse=True)
    dense_top = dense_sorted[0] if dense_sorted else 0.0
    top_section = index.chunks[order[0]].section if order else ""
    second = next(
        (dense_scores[i] for i in sorted(dense_scores, key=lambda i: -dense_scores[i])
         if index.chunks[i].section != top_section),
        0.0,
    )
    dense_best = max(dense_scores, key=dense_scores.get) if dense_scores else -1
    lex_best = max(lex_scores, key=lex_scores.get) if lex_scores else -1
    agreement = 0.0
    if dense_best >= 0 and lex_best >= 0:
        agreement = 1.0 if index.chunks[dense_best].section == index.chunks[lex_best].section else 0.0

    tokens = lexical.tokenize([expanded])[0]
    vocab = index.lexical.vocab_dict
    coverage = sum(1 for t in tokens if t in vocab) / len(tokens) if tokens else 0.0
    lexical_top = float(bm25_all.max()) / (len(tokens) or 1) if len(bm25_all) else 0.0

    in_top = float(bank_in.max())
    out_top = float(bank_out.max())
    features = {
        "dense_top": dense_top,
        "sentence_top": sentence_top,
        "bank_in_top": in_top,
        "bank_out_top": out_top,
        "in_minus_out": in_top - out_top,
        "margin": dense_top - second,
        "agreement": agreement,
        "lexical_top": lexical_top,
        "coverage": coverage,
    }
    return Evidence(order, fused, dense_scores, best_sentence, features)
