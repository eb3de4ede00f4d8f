"""BM25 (bm25s) over the same chunks, with English stemming and stop words."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer


@lru_cache(maxsize=1)
def stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(
        texts, stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=False
    )


def build_lexical(texts: list[str]) -> bm25s.BM25:
    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


def score_all(retriever: bm25s.BM25, tokens: list[str]) -> np.ndarray:
    """BM25 score of every chunk for a tokenized query (zeros when no query word is known)."""
    if not tokens:
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return np.asarray(retriever.get_scores(tokens), dtype=np.float32)


def save_lexical(retriever: bm25s.BM25, path: Path) -> None:
    retriever.save(str(path))


def load_lexical(path: Path) -> bm25s.BM25:
    return bm25s.BM25.load(str(path))
