"""Hybrid retrieval over the guide: dense (FAISS) and BM25 ranks fused, then passages chosen.

Besides ranking, a search returns the evidence the abstention model reads: how
close the question is to the guide's sentences and to the bank of in-scope and
out-of-scope questions, the margin between the best two sections, and whether
the dense and lexical rankings agree.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import faiss
import numpy as np

from index import dense as dense_ops
from index import lexical
from index.embedder import Embedder, encode_alongside
from index.guide_index import GuideIndex
from bot.query import MANNER_FORMS, focus_of
from bot.section_model import section_probabilities
from bot.sentences import VOTE_NEIGHBOURS as SENTENCE_VOTES
from bot.sentences import CANDIDATE_CHUNKS, Candidates, RankedSentence, rank_sentences
from bot.successor import Section, section_asked_around
from knowledge.acronyms import canonical_names, expand_acronyms, without_terms
from knowledge.stopwords import ENGLISH_STOP_WORDS

T = TypeVar("T")
RRF_K = 2
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.3
BANK_WEIGHT = 0.8
BANK_NEIGHBOURS = 10
CANDIDATES = 50
BEST_SENTENCE_CHUNKS = 10
"""The best chunks whose best sentences search reads ("sentence_top", and a passage's best sentence where the ranker
scored none of its section's): among the sentence ranker's candidates (`bot.sentences.CANDIDATE_CHUNKS`)."""
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
    "focus_min",
    "focus_mean",
    "neighbours_in",
    "lead_score",
)
VOTE_NEIGHBOURS = 10
NO_LEAD_SCORE = -10.0
"""The "lead_score" feature of a question with no candidate sentence."""
BANK_KEPT = max(BANK_NEIGHBOURS, VOTE_NEIGHBOURS, SENTENCE_VOTES)
"""How many of the nearest in-scope bank questions a search keeps: as many as its readers use."""
FOCUS_SMOOTHING = 1.0
MANNER_WORDS = frozenset(lexical.tokenize_one(" ".join(sorted(MANNER_FORMS))))
"""Words that say how a member asks ("which is *better*, MHA or MBA?", "is the MMM better *than* an MBA?", "the
*difference* between …", "what does a CMO *actually* do?"), not what about: no focus evidence either way. The
banks' styles made them lean: the out-of-scope bank's "best MBA programs" made "better" lean out nine to one, its
comparisons of titles the guide never describes made "than" lean out three to one, the chattier in-scope bank
made "actually" lean in six to one. What such questions ask about (named programs and titles, or degrees the
guide describes) carries the evidence."""


@dataclass(frozen=True)
class Evidence:
    order: tuple[int, ...]
    fused: dict[int, float]
    dense: dict[int, float]
    best_sentence: dict[int, tuple[str, float]]
    features: dict[str, float]
    query_vector: np.ndarray
    tokens: tuple[str, ...] = ()
    """The question's stemmed words, as BM25 reads them."""
    bank_in_nearest: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    )
    """The `BANK_KEPT` in-scope bank questions nearest the question, best first: their rows and cosines."""
    section_probs: dict[str, float] = field(default_factory=dict)
    """Each section's probability under the section model (`bot.section_model`)."""
    ranked: tuple[RankedSentence, ...] = ()
    """The candidate sentences, best first."""
    named_tokens: tuple[str, ...] = ()
    """The question's stemmed words with each name the documents define as its acronym alone (`VPMA`, not also
    `vice president medical affairs`), as the sentence ranker reads them."""
    around: str | None = None
    """The section of the step that comes after or before the one the question names (`bot.successor`), which its
    answer leads with."""
    candidates: Candidates | None = None
    """The sentences the ranker scores, with the question's cosines (`bot.sentences.Candidates`)."""

    def vector(self) -> np.ndarray:
        return np.array([self.features[name] for name in FEATURES], dtype=np.float64)


def retrieval_text(question: str, acronyms: dict[str, str]) -> str:
    return expand_acronyms(canonical_names(question, acronyms), acronyms)


MIN_NEUTRAL_CONTENT_WORDS = 2
AUXILIARIES = frozenset({"does", "did", "doing", "s", "t", "d", "ll", "ve", "m"})
"""Forms of "do" and contractions' tails that scikit-learn's stop words miss ("What does a CMO do?")."""


def without_topic(question: str, acronyms: dict[str, str], topic: tuple[str, ...] | list[str]) -> str | None:
    """The question with the guide's topic left out, or None when little would be left.

    Nearly every question names the topic ("… for a CMO?"), so it says nothing
    about which section answers; but when little else is asked ("What does a
    CMO do in a health system?"), the topic is the question, and it stays. Words
    that only say how a member asks (`MANNER_FORMS`) are not enough: "What makes a
    great CMO?" without its topic, "What makes a great", was refused (0.11).
    """
    return _without_topic(question, tuple(acronyms.items()), tuple(topic))


@functools.lru_cache(maxsize=256)
def _without_topic(question: str, acronyms: tuple[tuple[str, str], ...], topic: tuple[str, ...]) -> str | None:
    neutral = without_terms(canonical_names(question, dict(acronyms)), topic)
    content = [w for w in re.findall(r"[a-z]+", neutral.lower()) if w not in ENGLISH_STOP_WORDS and w not in AUXILIARIES and w not in MANNER_FORMS]
    return neutral if len(content) >= MIN_NEUTRAL_CONTENT_WORDS else None


def dense_text(question: str, acronyms: dict[str, str], topic: tuple[str, ...] | list[str]) -> str:
    """The question as the dense model sees it: the guide's topic left out (`without_topic`), other acronyms
    spelled out, and no closing punctuation (chat questions often end without "?", and the model, though
    uncased, reads it: the same question would otherwise lead with a different sentence)."""
    neutral = without_topic(question, acronyms, topic)
    return retrieval_text(question if neutral is None else neutral, acronyms).rstrip(" ?!.")


def question_texts(
    questions: list[str], acronyms: dict[str, str], topic: tuple[str, ...] | list[str] = ()
) -> tuple[list[str], list[tuple[int, int]]]:
    """What the model embeds for each question (it, and for long ones its asking sentence): texts and spans."""
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    for question in questions:
        expanded = dense_text(question, acronyms, topic)
        asked = focus_of(question)
        focus = dense_text(asked, acronyms, topic) if asked else None
        start = len(texts)
        texts.append(expanded)
        if focus:
            texts.append(focus)
        spans.append((start, len(texts)))
    return texts, spans


def question_vectors(vectors: np.ndarray, spans: list[tuple[int, int]], dim: int) -> np.ndarray:
    """One unit vector per question: the sum of its texts' vectors, normalised."""
    if not spans:
        return np.zeros((0, vectors.shape[1] if len(vectors) else dim), dtype=np.float32)
    combined = vectors if len(spans) == len(vectors) else np.add.reduceat(vectors, [start for start, _ in spans])
    norms = np.linalg.norm(combined, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(combined / norms, dtype=np.float32)


def encode_questions(
    embedder: Embedder, questions: list[str], acronyms: dict[str, str], topic: tuple[str, ...] | list[str], alongside: Callable[[], T]
) -> tuple[np.ndarray, T]:
    """One encode call for a batch (each question plus, for long ones, its asking sentence), and what `alongside`
    returns, run while the model runs (`encode_alongside`)."""
    texts, spans = question_texts(questions, acronyms, topic)
    embedded, result = encode_alongside(embedder, texts, alongside)
    return question_vectors(embedded, spans, embedder.dim), result


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, highest first, without sorting every chunk's score."""
    if len(scores) <= k:
        return np.argsort(-scores)
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part])]


def nearest_bank(bank: faiss.Index | None, q_vec: np.ndarray, k: int, exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows and cosines of the k bank questions nearest the question, best first; `exclude` is a bank
    question being scored for calibration, which must not find itself.

    FAISS (`index.dense.bank_index`) rather than a product with the whole bank: an answer runs right after the
    model, which has pushed the banks (some 5,700 questions) out of the CPU's caches; reading it back was a third of
    the time an answer spends beyond the model, and FAISS's scan of half the bytes takes a third of that."""
    if bank is None or bank.ntotal == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = dense_ops.search_dense(bank, q_vec[None, :], k + (exclude is not None))
    keep = ids[0] >= 0
    if exclude is not None:
        keep &= ids[0] != exclude
    return ids[0][keep][:k].astype(np.int64), scores[0][keep][:k]


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    ordered = sorted(scores, key=lambda key: -scores[key])
    return {key: rank for rank, key in enumerate(ordered)}


def _section_max(per_chunk: dict[int, float], section_of: list[str]) -> dict[str, float]:
    best: dict[str, float] = {}
    for idx, score in per_chunk.items():
        key = section_of[idx]
        if score > best.get(key, float("-inf")):
            best[key] = score
    return best


def focus_odds(index: GuideIndex, tokens: Sequence[str], *, exclude_in: bool = False, exclude_out: bool = False) -> tuple[float, float]:
    """How strongly the question's words lean toward what the guide answers: the lowest and the mean log-odds.

    Counts are how many in-scope texts (the guide's sentences and the in-scope
    bank) and out-of-scope bank questions use each stemmed word. A question
    whose topic is the guide's ("CMO") but whose focus is not ("salary",
    "report to", "interim") has one word that leans hard out of scope. The
    names the documents define (CMO, CPE, AAPL …) are what a question is
    about, on either side, so they are left out. A bank
    question being scored for calibration leaves its own words out of the counts.
    A word neither side uses (a typo, a rare word) is no evidence either way; smoothing
    alone would make it lean toward the smaller side.
    """
    counts = index.term_counts
    if not counts:
        return 0.0, 0.0
    n_in = counts["_in"] - (1 if exclude_in else 0)
    n_out = counts["_out"] - (1 if exclude_out else 0)
    a = FOCUS_SMOOTHING
    odds = []
    for term in set(tokens) - index.name_stems - MANNER_WORDS:
        c_in, c_out = counts.get(term, (0, 0))
        c_in -= 1 if exclude_in else 0
        c_out -= 1 if exclude_out else 0
        if c_in <= 0 and c_out <= 0:
            continue
        odds.append(math.log((max(c_in, 0) + a) / (n_in + 2 * a)) - math.log((max(c_out, 0) + a) / (n_out + 2 * a)))
    if not odds:
        return 0.0, 0.0
    return min(odds), sum(odds) / len(odds)


@dataclass(frozen=True)
class Wording:
    """What a search reads from a question's words alone (`read_wording`): the part that does not wait for the
    model, read while it runs (`AnswerEngine.encode_with_asks`)."""

    tokens: tuple[str, ...]
    """Its stemmed words with each acronym's long form added (`expand_acronyms`), as BM25 reads them."""
    named_tokens: tuple[str, ...]
    lexical: dict[int, float]
    """The BM25 scores of the best `CANDIDATES` chunks that share a word with the question."""
    lexical_top: float
    """The best chunk's BM25 score per question word."""
    coverage: float
    """The share of the question's words that some chunk uses."""
    focus: tuple[float, float]
    """`focus_odds` of `tokens`."""
    around: str | None


def read_wording(
    index: GuideIndex, question: str, path: Sequence[Section] = (), *, exclude_in: bool = False, exclude_out: bool = False
) -> Wording:
    """`exclude_in`, `exclude_out`: the question is a bank's own, scored for calibration (`focus_odds`)."""
    named = canonical_names(question, index.acronyms)
    expanded = expand_acronyms(named, index.acronyms)
    tokens = lexical.tokenize_one(expanded)
    bm25 = lexical.score_all(index.lexical, tokens)
    vocab = index.lexical.vocab_dict
    return Wording(
        tokens=tuple(tokens),
        named_tokens=tuple(lexical.tokenize_one(named)),
        lexical={int(i): float(bm25[i]) for i in _top(bm25, CANDIDATES) if bm25[i] > 0},
        lexical_top=float(bm25.max()) / (len(tokens) or 1) if len(bm25) else 0.0,
        coverage=sum(1 for t in tokens if t in vocab) / len(tokens) if tokens else 0.0,
        focus=focus_odds(index, tokens, exclude_in=exclude_in, exclude_out=exclude_out),
        around=section_asked_around(expanded, path) if path else None,
    )


def search(
    index: GuideIndex,
    question: str,
    q_vec: np.ndarray,
    *,
    exclude_bank_in: int | None = None,
    exclude_bank_out: int | None = None,
    ranked: bool = True,
    path: Sequence[Section] = (),
    wording: Wording | None = None,
) -> Evidence:
    """Rank sections by fusing three rankings (RRF), then chunks within each section.

    Dense similarity and BM25 score each chunk; the bank of in-scope questions
    votes for the section its nearest questions belong to. Sections, not
    chunks, are fused so that a section with two paragraphs is not counted twice.
    `path`: the documents' sections in order (`bot.successor`); the section of the step a question asks comes after
    or before another is found in it, and its sentences are candidates however the section ranked.
    Without `ranked`, the candidate sentences are left unranked and the evidence lacks its "lead_score"
    feature (the best sentence's score): an index build searches the in-scope bank before its sentence
    ranker is fitted, and scores their sentences once it is.
    `wording`: the question's `read_wording`, where it was read already.
    """
    words = wording or read_wording(index, question, path, exclude_in=exclude_bank_in is not None, exclude_out=exclude_bank_out is not None)
    section_of = index.chunk_sections
    cosines = index.cosines(q_vec)
    scores, ids = cosines.nearest_chunks(CANDIDATES)
    dense_scores = dict(zip(ids.tolist(), scores.tolist(), strict=True))

    tokens = words.tokens
    lex_scores = words.lexical

    in_rows, in_scores = nearest_bank(index.bank_in_index, q_vec, BANK_KEPT, exclude_bank_in)
    _, out_scores = nearest_bank(index.bank_out_index, q_vec, VOTE_NEIGHBOURS, exclude_bank_out)
    bank_scores: dict[str, float] = {}
    for row, score in zip(in_rows[:BANK_NEIGHBOURS].tolist(), in_scores[:BANK_NEIGHBOURS].tolist(), strict=True):
        key = index.bank_in_sections[row]
        bank_scores[key] = max(bank_scores.get(key, -1.0), score)

    section_dense = _section_max(dense_scores, section_of)
    section_lex = _section_max(lex_scores, section_of)
    rankings = [(DENSE_WEIGHT, _ranks(section_dense)), (LEXICAL_WEIGHT, _ranks(section_lex)), (BANK_WEIGHT, _ranks(bank_scores))]
    fused_sections: dict[str, float] = {}
    for weight, ranks in rankings:
        for key, rank in ranks.items():
            fused_sections[key] = fused_sections.get(key, 0.0) + weight / (RRF_K + rank + 1)
    candidates = set(dense_scores) | set(lex_scores)
    for key in bank_scores:
        candidates.update(index.section_chunks.get(key, ()))
    fused = {idx: fused_sections.get(section_of[idx], 0.0) for idx in candidates}
    order = tuple(sorted(candidates, key=lambda i: (-fused[i], -dense_scores.get(i, -1.0), i)))
    best_chunks = frozenset(order[:BEST_SENTENCE_CHUNKS])

    to_rank = Candidates.of(index, order, words.around, cosines)
    best_sentence: dict[int, tuple[str, float]] = {}
    sentence_top = -1.0
    sims = to_rank.cosine.tolist()
    offset = 0
    for idx, size in zip(to_rank.chunks, to_rank.sizes, strict=True):
        if idx in best_chunks:
            chunk_sims = sims[offset : offset + size]
            best = chunk_sims.index(max(chunk_sims))
            best_sentence[idx] = (index.chunks[idx].sentences[best], chunk_sims[best])
            sentence_top = max(sentence_top, chunk_sims[best])
        offset += size

    dense_sorted = sorted(dense_scores.values(), reverse=True)
    dense_top = dense_sorted[0] if dense_sorted else 0.0
    top_section = section_of[order[0]] if order else ""
    second = max((v for k, v in section_dense.items() if k != top_section), default=0.0)
    dense_best = max(dense_scores, key=dense_scores.__getitem__) if dense_scores else -1
    lex_best = max(lex_scores, key=lex_scores.__getitem__) if lex_scores else -1
    agreement = 0.0
    if dense_best >= 0 and lex_best >= 0:
        agreement = 1.0 if section_of[dense_best] == section_of[lex_best] else 0.0

    focus_min, focus_mean = words.focus

    features = {
        "dense_top": dense_top,
        "sentence_top": sentence_top,
        "bank_in_top": float(in_scores[0]) if len(in_scores) else 0.0,
        "margin": dense_top - second,
        "agreement": agreement,
        "lexical_top": words.lexical_top,
        "coverage": words.coverage,
        "focus_min": focus_min,
        "focus_mean": focus_mean,
    }
    section_model = index.ranker.get("section_model", {})
    if exclude_bank_in is not None and index.bank_in_section_probs is not None:
        section_probs = dict(zip(section_model.get("labels", ()), index.bank_in_section_probs[exclude_bank_in].tolist(), strict=True))
    else:
        section_probs = section_probabilities(section_model, q_vec)
    evidence = Evidence(
        order,
        fused,
        dense_scores,
        best_sentence,
        features,
        q_vec,
        tokens,
        (in_rows, in_scores),
        candidates=to_rank,
        named_tokens=words.named_tokens,
        section_probs=section_probs,
        around=words.around,
    )
    if ranked:
        sentences = tuple(rank_sentences(index, evidence)) if order else ()
        features["lead_score"] = sentences[0].score if sentences else NO_LEAD_SCORE
        evidence = replace(evidence, ranked=sentences)
    features.update(_bank_contrast(in_scores, out_scores))
    return evidence


def _bank_contrast(in_scores: np.ndarray, out_scores: np.ndarray) -> dict[str, float]:
    """The features that weigh the two banks' nearest questions against each other: the nearest out-of-scope one's
    cosine, the nearest in-scope one's lead over it, and the in-scope share of the nearest ten of both. Twenty
    numbers, read as Python floats: as arrays, each of the half-dozen steps cost more than its arithmetic."""
    near_in = in_scores[:VOTE_NEIGHBOURS].tolist()
    near_out = out_scores.tolist()
    in_top = near_in[0] if near_in else 0.0
    out_top = near_out[0] if near_out else 0.0
    nearest = sorted([(score, True) for score in near_in] + [(score, False) for score in near_out], reverse=True)[:VOTE_NEIGHBOURS]
    total = sum(max(score, 0.0) for score, _ in nearest)
    inside = sum(max(score, 0.0) for score, is_in in nearest if is_in)
    return {
        "bank_out_top": out_top,
        "in_minus_out": in_top - out_top,
        "neighbours_in": inside / total if total > 0 else 0.5,
    }


assert BEST_SENTENCE_CHUNKS <= CANDIDATE_CHUNKS, "search reads the best sentences of the ranker's candidate chunks"
