"""Fitted logistic models (the sentence ranker, the abstention model) read from the index's JSON."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

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


def model_arrays(params: dict, names: tuple[str, ...] = ("mean", "scale", "coef")) -> tuple[np.ndarray, ...]:
    """A fitted model's lists (as read from JSON) as arrays, converted once per loaded model, not per question."""
    return derived(params, _as_arrays(names))


@functools.cache
def _as_arrays(names: tuple[str, ...]) -> Callable[[dict], tuple[np.ndarray, ...]]:
    """One converter per set of names, so that `derived` keeps each set's arrays apart."""
    return lambda params: tuple(np.asarray(params[name], dtype=np.float64) for name in names)
