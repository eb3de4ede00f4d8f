"""When to say "the guide doesn't cover that".

A raw cosine threshold refuses many honest paraphrases and still answers
questions that merely share the guide's vocabulary ("What is the pass rate for
the CPE?"). Instead a small, strongly regularised logistic model reads several
kinds of evidence (closeness to the guide's sentences, to a bank of questions
the guide answers and to a bank it does not, the margin between the best two
sections, whether BM25 and dense ranks agree) together with the question's own
embedding, which tells what kind of thing is asked (a duty or a credential, or
a salary, a price, a schedule). It is fitted at index time on the banks, each
bank question scored with itself left out of the bank, and its operating point
is chosen on a cross-validated risk-coverage curve.

The out-of-scope bank is adversarial on purpose (it borrows the guide's words
to ask about pay, prices, exams and other titles), so the curve's risk is a
pessimistic estimate; a risk target alone would refuse most honest questions.
The operating point is therefore the highest threshold that still answers
`TARGET_COVERAGE` of the in-scope bank in cross-validation, and the risk at
that point is recorded with the index for `guidebot eval` to show.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.fitted import model_arrays
from bot.retrieval import FEATURES

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

# Bump when the model or its features change, so `guidebot index` refits it.
ABSTAIN_VERSION = "27"
TARGET_COVERAGE = 0.94
"""94 % rather than 95 %: with some 3,500 off-topic bank questions, 95 % let the threshold slide to 0.45 and
held-out refusals with it; README "Evaluation" gives the halves' and blind sets' figures at 93, 94 and 95 %."""
REGULARISATION = 0.1
# How much the question embedding counts beside the evidence features.
EMBEDDING_WEIGHT = 0.3


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    coverage: float
    risk: float


def _standardise(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (x - mean) / scale


@functools.cache
def prepare_fit() -> None:
    """Start importing scikit-learn (about a second) on a side thread, so it overlaps an index build's
    embedding (which leaves the interpreter free) instead of following it. Answering never imports it.
    Once per process: the CLI starts it before loading the model, and `build_index` for callers that don't."""
    threading.Thread(target=_import_sklearn, name="import-sklearn", daemon=True).start()


def _import_sklearn() -> None:
    try:
        for module in ("sklearn.linear_model", "sklearn.model_selection"):
            importlib.import_module(module)
    except ImportError:
        pass  # the fit's own import raises it where it can be reported


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, LogisticRegression]:
    """Standardise the evidence columns; the embedding columns keep their geometry."""
    from sklearn.linear_model import LogisticRegression  # only when fitting: answering needs numpy alone

    n_features = len(FEATURES)
    mean = np.zeros(x.shape[1])
    scale = np.ones(x.shape[1])
    mean[:n_features] = x[:, :n_features].mean(axis=0)
    scale[:n_features] = x[:, :n_features].std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", solver="liblinear", max_iter=1000)
    model.fit(_standardise(x, mean, scale), y)
    return mean, scale, model


def design(features: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Evidence features followed by the question embedding, one row per question."""
    vectors = np.atleast_2d(vectors)
    weight = EMBEDDING_WEIGHT * np.sqrt(vectors.shape[1])
    return np.hstack([np.atleast_2d(features), vectors * weight]).astype(np.float64)


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


def choose_point(points: list[CurvePoint], target_coverage: float = TARGET_COVERAGE) -> CurvePoint:
    """The strictest threshold that still answers `target_coverage` of in-scope questions."""
    feasible = [p for p in points if p.coverage >= target_coverage]
    if not feasible:
        return CurvePoint(0.5, 0.0, 1.0)
    return max(feasible, key=lambda p: p.threshold)


def fit_abstention(
    features: np.ndarray, vectors: np.ndarray, in_scope: np.ndarray, correct: np.ndarray, seed: int = 13
) -> dict:
    from sklearn.model_selection import RepeatedStratifiedKFold

    x = design(features, vectors)
    y = in_scope.astype(int)
    probs = np.zeros(len(y))
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=5, random_state=seed)

    def held_out(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, scale, model = _fit(x[train], y[train])
        return test, model.predict_proba(_standardise(x[test], mean, scale))[:, 1]

    # liblinear releases the GIL while it fits: the folds run on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="abstain-fit") as pool:
        for test, fold_probs in pool.map(lambda fold: held_out(*fold), folds.split(x, y)):
            probs[test] += fold_probs / 5
    curve = risk_coverage(probs, in_scope.astype(bool), correct.astype(bool))
    point = choose_point(curve)
    mean, scale, model = _fit(x, y)
    return {
        "features": list(FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
        "threshold": point.threshold,
        "target_coverage": TARGET_COVERAGE,
        "coverage_at_threshold": point.coverage,
        "risk_at_threshold": point.risk,
        "curve": [p.__dict__ for p in curve],
        "training": {"in_scope": int(y.sum()), "out_of_scope": int((1 - y).sum())},
    }


def in_scope_probability(params: dict, features: dict[str, float], vector: np.ndarray) -> float:
    mean, scale, coef = model_arrays(params)
    evidence = np.array([features[name] for name in params["features"]], dtype=np.float64)
    x = design(evidence, vector)[0]
    logit = float(_standardise(x, mean, scale) @ coef + params["intercept"])
    return float(1.0 / (1.0 + np.exp(-logit)))
