"""What the Unanswered page computed for a wording before, kept in memory so that opening it again is quick.

A year of unanswered questions has its `GROUPED_WORDINGS` most asked wordings embedded on every load
(about a second of the model on two cores), though they change little from one load to the next;
and the largest groups' nearest sections come from one retrieval each. Both depend only on the text
and on the live engine, so they are kept here per text, least recently used first out: a page opened
again embeds and searches only the wordings it has not met.

Entries are keyed by the SHA-256 of the text, not the text, and live only in this process's memory:
they go when the server stops, when the live engine changes (the index was rebuilt: its sections,
and perhaps its model, are new), or when `MEMO_SIZE` newer wordings push them out.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

from bot.answer import Source

if TYPE_CHECKING:
    from bot.engine import AnswerEngine

V = TypeVar("V")

MEMO_SIZE = 4000
"""Texts kept per kind: the four periods' wordings (300 each) and their groups' leaders, with room to spare."""


class TextMemo(Generic[V]):
    """Values computed per text, the `size` most recently used kept; safe to share between threads."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._values: OrderedDict[bytes, V] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def get_many(self, texts: Sequence[str], compute: Callable[[list[str]], Sequence[V]]) -> list[V]:
        """Each text's value, `compute` called once for those not kept (never for a text twice)."""
        keys = [hashlib.sha256(text.encode("utf-8")).digest() for text in texts]
        found: dict[bytes, V] = {}
        with self._lock:
            for key in keys:
                if key in self._values:
                    self._values.move_to_end(key)
                    found[key] = self._values[key]
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        if missing:
            computed = compute(list(missing.values()))
            found.update(zip(missing, computed, strict=True))
            with self._lock:
                for key in missing:
                    self._values[key] = found[key]
                    self._values.move_to_end(key)
                while len(self._values) > self._size:
                    self._values.popitem(last=False)
        return [found[key] for key in keys]


@dataclass
class EngineMemo:
    """The wordings' vectors (the engine's model) and their nearest sections (its index), for one live engine."""

    engine: weakref.ref[AnswerEngine]
    vectors: TextMemo[np.ndarray] = field(default_factory=TextMemo)
    sections: TextMemo[Source | None] = field(default_factory=TextMemo)


_current: EngineMemo | None = None
_current_lock = threading.Lock()


def memo_for(engine: AnswerEngine) -> EngineMemo:
    """The memo of `engine`, a new one when the live engine has changed (held weakly: it never keeps an old index alive)."""
    global _current
    with _current_lock:
        if _current is None or _current.engine() is not engine:
            _current = EngineMemo(weakref.ref(engine))
        return _current


def memo_embed(memo: EngineMemo, encode: Callable[[list[str]], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
    """`encode`, with the model run only on texts the memo has not kept."""

    def embed(texts: list[str]) -> np.ndarray:
        rows = memo.vectors.get_many(texts, lambda missing: list(np.asarray(encode(missing), dtype=np.float32)))
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    return embed
