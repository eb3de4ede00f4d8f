"""Fitted logistic models (the sentence ranker, the abstention model) read from the index's JSON."""

from __future__ import annotations

import numpy as np

_ARRAYS: dict[int, tuple[dict, tuple[np.ndarray, ...]]] = {}


def model_arrays(params: dict, names: tuple[str, ...] = ("mean", "scale", "coef")) -> tuple[np.ndarray, ...]:
    """A fitted model's lists (as read from JSON) as arrays, converted once per loaded model, not per question."""
    cached = _ARRAYS.get(id(params))
    if cached is None or cached[0] is not params:
        if len(_ARRAYS) > 16:
            _ARRAYS.clear()
        cached = _ARRAYS[id(params)] = (params, tuple(np.asarray(params[name], dtype=np.float64) for name in names))
    return cached[1]
