"""Fitted logistic models (the sentence ranker, the abstention model) read from the index's JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

_ARRAYS: dict[int, tuple[dict, tuple[np.ndarray, ...]]] = {}


def model_arrays(params: dict, names: tuple[str, ...] = ("mean", "scale", "coef")) -> tuple[np.ndarray, ...]:
    """A fitted model's lists (as read from JSON) as arrays, converted once per loaded model, not per question."""
    cached = _ARRAYS.get(id(params))
    if cached is None or cached[0] is not params:
        if len(_ARRAYS) > 16:
            _ARRAYS.clear()
        cached = _ARRAYS[id(params)] = (params, tuple(np.asarray(params[name], dtype=np.float64) for name in names))
    return cached[1]


_DERIVED: dict[tuple[int, Callable[[dict], Any]], tuple[dict, Any]] = {}


def derived(params: dict, build: Callable[[dict], T]) -> T:
    """What `build` makes of a fitted model, made once per loaded model, not per question."""
    key = (id(params), build)
    cached = _DERIVED.get(key)
    if cached is None or cached[0] is not params:
        if len(_DERIVED) > 16:
            _DERIVED.clear()
        cached = _DERIVED[key] = (params, build(params))
    return cached[1]
