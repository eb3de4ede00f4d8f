"""BM25 (bm25s) over the same chunks, with English stemming and stop words."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import bm25s
from bm25s.stopwords import STOPWORDS_EN
import numpy as np
import Stemmer


@lru_cache(maxsize=1)
def stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(
        texts, stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=False
    )


_SPLIT = re.compile(r"(?u)\b\w\w+\b")
"""bm25s.tokenize's default token pattern."""
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize_one(text: str) -> list[str]:
    """`tokenize([text])[0]`, without the batch machinery: bm25s rebuilds its stop-word set and two
    progress bars per call, which cost a question more than its whole BM25 search.
    `tests/test_index.py` checks that both give the same tokens."""
    return stemmer().stemWords([w for w in _SPLIT.findall(text.lower()) if w not in _STOPWORDS])


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
