"""When to say "the guide doesn't cover that".

A raw cosine threshold refuses many honest paraphrases and still answers
questions that merely share the guide's vocabulary ("What is the pass rate for
the CPE?"). Instead a small logistic model reads several kinds of evidence
(closeness to the guide's sentences, to a bank of questions the guide answers
and to a bank it does not, the margin between the best two sections, and
whether BM25 and dense ranks agree). It is fitted at index time on the banks,
each bank question scored with itself left out of the bank, and its operating
point is chosen on a cross-validated risk-coverage curve: the threshold that
answers the most in-scope questions while the share of wrong answers among
those given stays under a target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bot.retrieval import FEATURES

TARGET_RISK = 0.05


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    coverage: float
    risk: float


def _standardise(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (x - mean) / scale


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, LogisticRegression]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(_standardise(x, mean, scale), y)
    return mean, scale, model


def risk_coverage(probs: np.ndarray, in_scope: np.ndarray, correct: np.ndarray) -> list[CurvePoint]:
    """Coverage: share of in-scope questions answered. Risk: share of answers that are wrong
    (an out-of-scope question answered, or an in-scope one whose section is not among the passages)."""
    points: list[CurvePoint] = []
    for threshold in np.unique(np.round(probs, 4)):
        answered = probs >= threshold
        n = int(answered.sum())
        if n == 0:
            continue
        wrong = int((answered & ~in_scope).sum() + (answered & in_scope & ~correct).sum())
        coverage = float((answered & in_scope).sum() / max(1, in_scope.sum()))
        points.append(CurvePoint(float(threshold), coverage, wrong / n))
    return points


def choose_threshold(points: list[CurvePoint], target_risk: float = TARGET_RISK) -> float:
    feasible = [p for p in points if p.risk <= target_risk]
    if not feasible:
        return max(points, key=lambda p: p.coverage - 4 * p.risk).threshold if points else 0.5
    best = max(p.coverage for p in feasible)
    # Among equally good thresholds take the middle one: a margin on both sides.
    candidates = sorted(p.threshold for p in feasible if p.coverage >= best - 1e-9)
    return float(candidates[len(candidates) // 2])


def fit_abstention(x: np.ndarray, in_scope: np.ndarray, correct: np.ndarray, seed: int = 13) -> dict:
    y = in_scope.astype(int)
    probs = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in folds.split(x, y):
        mean, scale, model = _fit(x[train], y[train])
        probs[test] = model.predict_proba(_standardise(x[test], mean, scale))[:, 1]
    curve = risk_coverage(probs, in_scope.astype(bool), correct.astype(bool))
    threshold = choose_threshold(curve)
    mean, scale, model = _fit(x, y)
    return {
        "features": list(FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
        "threshold": threshold,
        "target_risk": TARGET_RISK,
        "curve": [p.__dict__ for p in curve],
        "training": {"in_scope": int(y.sum()), "out_of_scope": int((1 - y).sum())},
    }


def in_scope_probability(params: dict, features: dict[str, float]) -> float:
    x = np.array([features[name] for name in params["features"]], dtype=np.float64)
    z = _standardise(x, np.array(params["mean"]), np.array(params["scale"]))
    logit = float(z @ np.array(params["coef"]) + params["intercept"])
    return float(1.0 / (1.0 + np.exp(-logit)))
