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


def section_key(chunk: Chunk) -> str:
    return f"{chunk.document_id}#{chunk.section_slug}"


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

    @property
    def chunk_sentence_offsets(self) -> np.ndarray:
        return self._offsets

    def __post_init__(self) -> None:
        counts = np.array([len(c.sentences) for c in self.chunks], dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(counts)])
        self.chunk_sections = [section_key(c) for c in self.chunks]
        self.section_chunks: dict[str, list[int]] = {}
        for idx, key in enumerate(self.chunk_sections):
            self.section_chunks.setdefault(key, []).append(idx)

    def sentence_rows(self, chunk_idx: int) -> tuple[int, int]:
        return int(self._offsets[chunk_idx]), int(self._offsets[chunk_idx + 1])


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
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexMissingError(
            f"The index at {live_link} is damaged ({exc}). Run `guidebot index --force` to rebuild it."
        ) from exc
    if len(index.chunks) != index.dense.ntotal or len(index.sentence_vectors) != int(index.chunk_sentence_offsets[-1]):
        raise IndexMissingError(
            f"The index at {live_link} is inconsistent. Run `guidebot index --force` to rebuild it."
        )
    return index
