"""The loaded index: chunks, sentence and bank vectors, FAISS and BM25, read from one build directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from index import dense, lexical
from index.persist import IndexMissingError, Manifest, live_target, read_json, read_manifest
from knowledge.chunking import Chunk

CHUNKS = "chunks.json"
DENSE = "dense.faiss"
SENTENCE_VECTORS = "sentence_vectors.npy"
BANK = "bank.json"
BANK_IN_VECTORS = "bank_in.npy"
BANK_OUT_VECTORS = "bank_out.npy"
BM25_DIR = "bm25"
ACRONYMS = "acronyms.json"
ABSTAIN = "abstain.json"
ENTITIES = "entities.json"
SENTENCE_CONTEXT_VECTORS = "sentence_context_vectors.npy"
RANKER = "ranker.json"
WHOLE_PRODUCT_SENTENCES = 512
"""Up to this many sentences (and an exact chunk index), a question's cosines are one product (`QuestionCosines`)."""


def section_key(chunk: Chunk) -> str:
    return f"{chunk.document_id}#{chunk.section_slug}"


def heading_of(chunk: Chunk) -> str:
    """The chunk's place in words: its heading trail, or the document's title before the first heading."""
    return " › ".join(chunk.heading_trail) or chunk.document_title


def in_context(chunk: Chunk, sentence: str) -> str:
    return f"{heading_of(chunk)}: {sentence}"


@dataclass
class GuideIndex:
    path: Path
    manifest: Manifest
    chunks: list[Chunk]
    dense: faiss.Index
    lexical: bm25s.BM25
    sentence_vectors: np.ndarray
    sentence_chunk: np.ndarray
    bank_in: np.ndarray
    bank_in_sections: list[str]
    bank_out: np.ndarray
    acronyms: dict[str, str]
    abstain: dict[str, Any]
    entities: dict[str, Any] = field(default_factory=dict)
    topic_terms: tuple[str, ...] = ()
    bank_texts: tuple[str, ...] = ()
    """The question banks' wording (in scope and out), which the speller mends typos toward with the guide's."""
    sentence_context_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    """Each sentence embedded after its section's heading, so "Responsibilities include …" knows whose."""
    bank_in_sentences: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """For each in-scope bank question, the sentence row its answer phrase is in (-1: only its section is known)."""
    ranker: dict[str, Any] = field(default_factory=dict)
    term_counts: dict[str, Any] = field(default_factory=dict)
    """Per stemmed word, how many in-scope and out-of-scope texts use it (`_in`, `_out`: how many texts)."""
    bank_in_section_probs: np.ndarray | None = None
    """While building only: each in-scope bank question's section probabilities from a section model fitted
    without it (`bot.section_model`), for the ranker's and abstention's training."""

    @property
    def chunk_sentence_offsets(self) -> np.ndarray:
        return self._offsets

    def __post_init__(self) -> None:
        counts = np.array([len(c.sentences) for c in self.chunks], dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(counts)])
        self._offset_list: list[int] = self._offsets.tolist()
        self.chunk_sections = [section_key(c) for c in self.chunks]
        section_ids = {key: n for n, key in enumerate(dict.fromkeys(self.chunk_sections + list(self.bank_in_sections)))}
        self.chunk_section_ids = np.array([section_ids[key] for key in self.chunk_sections], dtype=np.int64)
        self.bank_in_section_ids = np.array([section_ids[key] for key in self.bank_in_sections], dtype=np.int64)
        """Sections as numbers, for the nearest bank questions' vote on the candidate sentences (`bot.sentences`)."""
        self.bank_in_index = dense.bank_index(self.bank_in) if len(self.bank_in) else None
        self.bank_out_index = dense.bank_index(self.bank_out) if len(self.bank_out) else None
        """The banks searched like the guide (`bot.retrieval.nearest_bank`)."""
        self.section_chunks: dict[str, list[int]] = {}
        for idx, key in enumerate(self.chunk_sections):
            self.section_chunks.setdefault(key, []).append(idx)
        df = np.diff(np.asarray(self.lexical.scores["indptr"])) if self.lexical is not None else np.zeros(0)
        n = float(self.lexical.scores["num_docs"]) if self.lexical is not None else 1.0
        self.idf = {term: float(np.log(1.0 + (n - df[i] + 0.5) / (df[i] + 0.5))) for term, i in self.lexical.vocab_dict.items() if i < len(df)} if len(df) else {}
        self.max_idf = float(np.log(1.0 + (n + 0.5) / 0.5))
        """A word the guide never uses weighs as much as its rarest one: a question about it is not answered by overlap elsewhere."""
        self.topic_stems = frozenset(lexical.tokenize([" ".join(f"{t} {t}s" for t in self.topic_terms)])[0]) if self.topic_terms else frozenset()
        names = [f"{acronym} {acronym}s {long_form}" for acronym, long_form in self.acronyms.items()]
        self.name_stems = self.topic_stems | frozenset(t for words in lexical.tokenize(names) for t in words) if names else self.topic_stems
        """The stemmed words of every name the documents define: what a question is about, not what it asks."""
        self._sentence_terms: dict[int, frozenset[str]] = {}
        self._chunk_postings: dict[int, dict[str, tuple[int, ...]]] = {}
        self._heading_terms: dict[int, frozenset[str]] = {}
        self._bank_in_tokens: dict[int, tuple[str, ...]] = {}
        self._stacked = self._stack()
        self.sentence_texts = [sentence for chunk in self.chunks for sentence in chunk.sentences]
        """Each sentence by row: an answer reads dozens, one at a time."""

    def bank_in_tokens(self, row: int) -> tuple[str, ...]:
        """The stemmed words of one in-scope bank question, in order (the banks' texts list the in-scope ones first)."""
        tokens = self._bank_in_tokens.get(row)
        if tokens is None:
            tokens = self._bank_in_tokens[row] = tuple(lexical.tokenize_one(self.bank_texts[row])) if row < len(self.bank_texts) else ()
        return tokens

    def sentence_terms(self, row: int) -> frozenset[str]:
        """The stemmed words of one sentence, tokenized on first use (a large corpus has millions)."""
        terms = self._sentence_terms.get(row)
        if terms is None:
            chunk = int(self.sentence_chunk[row])
            start, _ = self.sentence_rows(chunk)
            tokens = lexical.tokenize(list(self.chunks[chunk].sentences))
            for offset, words in enumerate(tokens):
                self._sentence_terms[start + offset] = frozenset(words)
            terms = self._sentence_terms[row]
        return terms

    def chunk_postings(self, chunk: int) -> dict[str, tuple[int, ...]]:
        """Each stemmed word of one chunk's sentences with the sentences (counted from the chunk's first) that use it:
        a question's few words are looked up here rather than every candidate sentence's words read (`bot.sentences`)."""
        postings = self._chunk_postings.get(chunk)
        if postings is None:
            start, end = self.sentence_rows(chunk)
            found: dict[str, list[int]] = {}
            for offset in range(end - start):
                for term in self.sentence_terms(start + offset):
                    found.setdefault(term, []).append(offset)
            postings = self._chunk_postings[chunk] = {term: tuple(rows) for term, rows in found.items()}
        return postings

    def heading_terms(self, chunk: int) -> frozenset[str]:
        terms = self._heading_terms.get(chunk)
        if terms is None:
            terms = self._heading_terms[chunk] = frozenset(lexical.tokenize([heading_of(self.chunks[chunk])])[0])
        return terms

    def sentence_rows(self, chunk_idx: int) -> tuple[int, int]:
        return self._offset_list[chunk_idx], self._offset_list[chunk_idx + 1]

    def cosines(self, q_vec: np.ndarray) -> QuestionCosines:
        if self._stacked is None:
            return QuestionCosines(self, q_vec)
        return QuestionCosines(self, q_vec, self._stacked @ q_vec)

    def _stack(self) -> np.ndarray | None:
        """A small guide's sentence vectors, alone and in context, and chunk vectors in one matrix (`QuestionCosines`)."""
        sentences = len(self.sentence_vectors)
        if sentences > WHOLE_PRODUCT_SENTENCES or len(self.sentence_context_vectors) != sentences or not isinstance(self.dense, faiss.IndexFlat):
            return None
        chunks = self.dense.reconstruct_n(0, self.dense.ntotal) if self.dense.ntotal else np.zeros((0, self.sentence_vectors.shape[1]))
        return np.ascontiguousarray(np.vstack([self.sentence_vectors, self.sentence_context_vectors, chunks]), dtype=np.float32)


@dataclass(frozen=True)
class QuestionCosines:
    """A question's cosines with the guide's sentences (embedded alone, or `in_context` after their heading) and chunks.

    A small guide's are one product of the question with all of them (`GuideIndex._stack`), taken once per question:
    taken apart (a FAISS search of the chunks, then each sentence product once per reader) each read its vectors
    afresh from memory, the model having just pushed them out of the CPU's caches. A large guide's candidates are
    gathered first and its chunks searched with FAISS."""

    index: GuideIndex
    vector: np.ndarray
    whole: np.ndarray | None = None

    def sentences(self, rows: np.ndarray, *, in_context: bool = False) -> np.ndarray:
        index = self.index
        count = len(index.sentence_vectors)
        if self.whole is not None:
            return self.whole[count : 2 * count][rows] if in_context else self.whole[:count][rows]
        vectors = index.sentence_context_vectors if in_context else index.sentence_vectors
        return np.asarray(vectors[rows], dtype=np.float32) @ self.vector

    def nearest_chunks(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The cosines and rows of the k chunks nearest the question, best first (ties: the earlier chunk first)."""
        if self.whole is None:
            scores, ids = dense.search_dense(self.index.dense, self.vector[None, :], k)
            keep = ids[0] >= 0
            return scores[0][keep], ids[0][keep]
        chunks = self.whole[2 * len(self.index.sentence_vectors) :]
        ids = np.argsort(-chunks, kind="stable")[:k]
        return chunks[ids], ids


def load_index(live_link: Path, expected_model: str | None = None) -> GuideIndex:
    path = live_target(live_link)
    manifest = read_manifest(path)
    if manifest is None:
        raise IndexMissingError(
            f"No index found at {live_link}. Run `guidebot index` to build it from knowledge/documents."
        )
    if expected_model and manifest.model != expected_model:
        raise IndexMissingError(
            f"The index at {live_link} was built with model {manifest.model!r}, but the configured model is "
            f"{expected_model!r}. Run `guidebot index` to rebuild it."
        )
    try:
        chunks = [Chunk.from_json(c) for c in read_json(path / CHUNKS)]
        bank = read_json(path / BANK)
        index = GuideIndex(
            path=path,
            manifest=manifest,
            chunks=chunks,
            dense=dense.load_dense(path / DENSE),
            lexical=lexical.load_lexical(path / BM25_DIR),
            # Mapped, not read (a large corpus has millions of sentences), but as a plain ndarray: slicing a
            # `np.memmap` runs Python code on every search, under the GIL the event loop needs.
            sentence_vectors=np.asarray(np.load(path / SENTENCE_VECTORS, mmap_mode="r")),
            sentence_chunk=np.asarray(bank["sentence_chunk"], dtype=np.int64),
            bank_in=np.load(path / BANK_IN_VECTORS),
            bank_in_sections=list(bank["in_sections"]),
            bank_out=np.load(path / BANK_OUT_VECTORS),
            acronyms=read_json(path / ACRONYMS),
            abstain=read_json(path / ABSTAIN),
            entities=read_json(path / ENTITIES) if (path / ENTITIES).exists() else {},
            topic_terms=tuple(bank.get("topic_terms", ())),
            bank_texts=tuple(bank.get("in_texts", ())) + tuple(bank.get("out_texts", ())),
            sentence_context_vectors=np.asarray(np.load(path / SENTENCE_CONTEXT_VECTORS, mmap_mode="r")),
            bank_in_sentences=np.asarray(bank["in_sentences"], dtype=np.int64),
            ranker=read_json(path / RANKER),
            term_counts={k: tuple(v) if isinstance(v, list) else v for k, v in bank.get("term_counts", {}).items()},
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexMissingError(
            f"The index at {live_link} is damaged ({exc}). Run `guidebot index --force` to rebuild it."
        ) from exc
    sentences = int(index.chunk_sentence_offsets[-1])
    if (
        len(index.chunks) != index.dense.ntotal
        or len(index.sentence_vectors) != sentences
        or len(index.sentence_context_vectors) != sentences
        or len(index.bank_in_sentences) != len(index.bank_in)
    ):
        raise IndexMissingError(
            f"The index at {live_link} is inconsistent. Run `guidebot index --force` to rebuild it."
        )
    return index
