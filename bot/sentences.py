"""Ranking the guide's sentences for a question: what an answer leads with.

Sections are the unit members navigate, but the answer to a question is
usually one sentence. A small logistic model scores each candidate sentence
from several kinds of evidence: its closeness to the question alone and with
its section's heading, the share of the question's rarer words it and its
heading hold, how its section ranked, which sentence the nearest questions
of the in-scope bank are answered by (bank questions name their answer with a
verbatim phrase), and how likely the section model (`bot.section_model`) finds
its section. It is fitted at index time on the bank, each bank question
scored with itself left out, like the abstention model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bot.fitted import model_arrays
from index.lexical import tokenize_one

if TYPE_CHECKING:
    from bot.retrieval import Evidence
    from index.guide_index import GuideIndex, QuestionCosines

RANKER_VERSION = "21"
CANDIDATE_CHUNKS = 11
"""Sentences are scored in the best chunks of the section ranking only (a large corpus has millions). Eight left the
answering section out where the fusion ranked it ninth ("How does a chief medical officer connect the physicians with
top leadership?" never saw "the bridge between the medical staff and the executive suite"); eleven of the guide's 15
chunks brought the held-out halves' Hit@3 from 0.995 to 0.998 (all fifteen: the same, Hit@1 0.957 → 0.956)."""
BANK_NEIGHBOURS = 10
VOTE_NEIGHBOURS = 25
VOTE_TEMPERATURE = 0.05
"""Nearer bank questions count for more: a neighbour 0.05 less similar than the nearest weighs e⁻¹ as much."""

SENTENCE_FEATURES = (
    "cosine",
    "cosine_in_context",
    "cosine_gap",
    "lexical",
    "lexical_heading",
    "section_score",
    "top_section",
    "bank_sentence",
    "bank_section",
    "opens_section",
    "vote_sentence",
    "vote_section",
    "section_model",
    "position",
)


class RankedSentence(NamedTuple):
    """A candidate sentence and its score: a tuple, for every question builds dozens."""

    row: int
    """Row of the sentence in the index (all chunks' sentences, in order)."""
    chunk: int
    text: str
    score: float


EARLY_WORDS = frozenset(tokenize_one("first initial begin beginning start starting"))
LATE_WORDS = frozenset(tokenize_one("last final finally finish"))


def _position(terms: frozenset[str]) -> int:
    """Which end of a sequence words point to: 1 the start, -1 the end, 0 neither or both.

    The embedding barely tells "the first step" from "the last step", so "What's the first step toward
    becoming a CMO?" led with "The final stage of the career path …" second. The ranker's "position"
    feature is the product of the question's and the sentence's: 1 where they agree, -1 where they clash."""
    return (1 if terms & EARLY_WORDS else 0) - (1 if terms & LATE_WORDS else 0)


STEP_WORDS = frozenset(tokenize_one("step steps stage stages phase leg stretch rung move part milestone hurdle"))


def _step_position(tokens: tuple[str, ...] | list[str]) -> int:
    """`_position` of a question that asks about a step of the path ("the last step", "the first formal
    step", "the very last leg"), read in order: "VPMA for the last three years" asks about no end."""
    for i, word in enumerate(tokens):
        if (word in EARLY_WORDS or word in LATE_WORDS) and STEP_WORDS & set(tokens[i + 1 : i + 3]):
            return 1 if word in EARLY_WORDS else -1
    return 0


def _idf_overlap(query: frozenset[str], terms: frozenset[str], idf: dict[str, float], total: float) -> float:
    return sum(idf.get(t, 0.0) for t in query & terms) / total if total else 0.0


def _lexical_overlap(
    index: GuideIndex, chunks: list[int], sizes: list[int], query: frozenset[str], idf: dict[str, float], total: float
) -> np.ndarray:
    """`_idf_overlap` of every candidate sentence, from the chunks' postings: the question has a handful of words,
    the candidates hundreds of sentences."""
    weighed = [(t, idf[t]) for t in query if idf.get(t)]
    overlap = [0.0] * sum(sizes)
    if not total or not weighed:
        return np.zeros(len(overlap))
    offset = 0
    for chunk, size in zip(chunks, sizes, strict=True):
        postings = index.chunk_postings(chunk)
        for term, weight in weighed:
            for row in postings.get(term, ()):
                overlap[offset + row] += weight
        offset += size
    return np.array(overlap) / total


@dataclass(frozen=True)
class Candidates:
    """The sentences an answer is looked for in: those of the best chunks of the section ranking, then of the section
    a question asks what comes after or before (`bot.successor`), chunk by chunk, with their cosines with the question.
    Search reads them too (`bot.retrieval.search`: each chunk's best sentence)."""

    chunks: list[int]
    sizes: list[int]
    rows: np.ndarray
    cosines: QuestionCosines
    cosine: np.ndarray

    @classmethod
    def of(cls, index: GuideIndex, order: Sequence[int], around: str | None, cosines: QuestionCosines) -> Candidates:
        chunks = list(order[:CANDIDATE_CHUNKS])
        if around is not None:
            chunks += [c for c in index.section_chunks.get(around, ()) if c not in chunks]
        spans = [(c, start, end) for c in chunks for start, end in (index.sentence_rows(c),) if end > start]
        rows = np.array([row for _, start, end in spans for row in range(start, end)], dtype=np.int64)
        return cls([c for c, _, _ in spans], [end - start for _, start, end in spans], rows, cosines, cosines.sentences(rows))


def sentence_features(index: GuideIndex, evidence: Evidence) -> tuple[np.ndarray, np.ndarray]:
    """Candidate sentence rows and their feature matrix, one row per sentence.

    Built a chunk at a time (a handful) rather than a sentence at a time: this runs for every question.
    """
    candidates = evidence.candidates or Candidates.of(index, evidence.order, evidence.around, index.cosines(evidence.query_vector))
    if not candidates.chunks:
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(SENTENCE_FEATURES)))
    chunks, sizes, rows = candidates.chunks, candidates.sizes, candidates.rows
    cosine = candidates.cosine
    in_context = candidates.cosines.sentences(rows, in_context=True) if len(index.sentence_context_vectors) else cosine
    # The guide's topic ("CMO") is in nearly every question and many sentences: overlap on it says nothing,
    # even when the topic is all a question names. Counted then, it led "How to become a CMO" with whichever
    # sentence happens to say "CMO" ("… to secure a CMO placement"), not the overview's, which says "this senior
    # executive position"; the bank's neighbours and the section model know better. A name counts once, as its
    # acronym: spelt out, "VPMA" would match the sentence that defines it four times over ("What external
    # representation does the VPMA handle?" would lead with "The Vice President of Medical Affairs (VPMA) position
    # represents …").
    asked = frozenset(evidence.named_tokens or evidence.tokens)
    query = asked - index.topic_stems or asked
    idf = index.idf
    total = sum(idf.get(t, index.max_idf) for t in query)
    lexical = _lexical_overlap(index, chunks, sizes, query, idf, total)
    asked_position = _position(asked)
    position = np.zeros(len(rows))
    if asked_position:
        position[:] = [asked_position * _position(index.sentence_terms(r)) for r in rows.tolist()]

    nearest, similarity = evidence.bank_in_nearest
    step = _step_position(evidence.named_tokens)
    if step:
        # A bank question about the other step of the path is no neighbour: the model reads "the first step"
        # and "the last step" as twins, and the bank's many last-step questions outvoted the position feature.
        same_end = np.array([step * _step_position(index.bank_in_tokens(int(b))) >= 0 for b in nearest.tolist()], dtype=bool)
        nearest, similarity = nearest[same_end], similarity[same_end]
    by_sentence: dict[int, float] = {}
    by_section: dict[str, float] = {}
    near_rows = nearest[:BANK_NEIGHBOURS]
    answer_rows = index.bank_in_sentences[near_rows].tolist() if len(index.bank_in_sentences) else [-1] * len(near_rows)
    for b, near, answer_row in zip(near_rows.tolist(), similarity[:BANK_NEIGHBOURS].tolist(), answer_rows, strict=True):
        sim = max(0.0, near)
        key = index.bank_in_sections[b]
        by_section[key] = max(by_section.get(key, 0.0), sim)
        if answer_row >= 0:
            by_sentence[answer_row] = max(by_sentence.get(answer_row, 0.0), sim)
    bank_sentence = np.array([by_sentence.get(r, 0.0) for r in rows.tolist()]) if by_sentence else np.zeros(len(rows))
    vote_sentence, vote_section = _votes(index, nearest[:VOTE_NEIGHBOURS], similarity[:VOTE_NEIGHBOURS], rows)

    best_fused = max(evidence.fused.values(), default=0.0) or 1.0
    top = index.chunk_sections[evidence.order[0]]
    per_chunk = np.array(
        [
            (
                _idf_overlap(query, index.heading_terms(c), idf, total),
                evidence.fused.get(c, 0.0) / best_fused,
                1.0 if index.chunk_sections[c] == top else 0.0,
                by_section.get(index.chunk_sections[c], 0.0),
                math.log(evidence.section_probs.get(index.chunk_sections[c], 0.0) + 1e-3),
            )
            for c in chunks
        ]
    )
    lexical_heading, section_score, top_section, bank_section, section_model = np.repeat(per_chunk, sizes, axis=0).T
    opens = np.zeros(len(rows))
    offset = 0
    for c, size in zip(chunks, sizes, strict=True):
        if index.section_chunks[index.chunk_sections[c]][0] == c:
            opens[offset] = 1.0
        offset += size
    columns = (
        cosine,
        in_context,
        in_context - in_context.max(),
        lexical,
        lexical_heading,
        section_score,
        top_section,
        bank_sentence,
        bank_section,
        opens,
        vote_sentence,
        vote_section,
        section_model,
        position,
    )
    return rows, np.array(columns, dtype=np.float64).T


def _votes(index: GuideIndex, nearest: np.ndarray, similarity: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate sentence's (and its section's) share of a soft vote of the nearest bank questions.
    One close neighbour is weak evidence; many neighbours answered by the same sentence are strong."""
    if not len(nearest):
        return np.zeros(len(rows)), np.zeros(len(rows))
    weights = np.exp((similarity - similarity[0]) / VOTE_TEMPERATURE)
    weights = (weights / weights.sum()).astype(np.float64)
    answers = index.bank_in_sentences[nearest] if len(index.bank_in_sentences) else np.full(len(nearest), -1)
    sentence = (rows[:, None] == answers[None, :]) @ weights
    sections = index.chunk_section_ids[index.sentence_chunk[rows]]
    section = (sections[:, None] == index.bank_in_section_ids[nearest][None, :]) @ weights
    return sentence, section


def score(params: dict, features: np.ndarray) -> np.ndarray:
    """Log-odds that each sentence answers the question (higher is better)."""
    if not params.get("coef"):
        return features[:, SENTENCE_FEATURES.index("cosine_in_context")] + 0.5 * features[:, SENTENCE_FEATURES.index("section_score")]
    mean, scale, coef = model_arrays(params)
    return ((features - mean) / scale) @ coef + float(params["intercept"])


def rank_sentences(index: GuideIndex, evidence: Evidence) -> list[RankedSentence]:
    rows, features = sentence_features(index, evidence)
    if not len(rows):
        return []
    scores = score(index.ranker, features)
    order = np.argsort(-scores)
    ordered = rows[order]
    texts = index.sentence_texts
    return [
        RankedSentence(row, chunk, texts[row], value)
        for row, chunk, value in zip(ordered.tolist(), index.sentence_chunk[ordered].tolist(), scores[order].tolist(), strict=True)
    ]


def fit_ranker(features: list[np.ndarray], labels: list[np.ndarray]) -> dict:
    """Pointwise logistic regression over every (bank question, candidate sentence) pair."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack(features)
    y = np.concatenate(labels).astype(int)
    if y.sum() == 0 or y.sum() == len(y):
        return {"reason": "no labelled bank answers: sentences ranked by similarity"}
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", max_iter=1000)
    model.fit((x - mean) / scale, y)
    return {
        "version": RANKER_VERSION,
        "features": list(SENTENCE_FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
        "training": {"questions": len(features), "pairs": int(len(y)), "answers": int(y.sum())},
    }
