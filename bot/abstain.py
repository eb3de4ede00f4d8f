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

The logistic model is linear in the embedding: a question near the guide's
ground in one respect and off it in another ("a VPMA's … salary") is a sum of
the two. A small neural network (one hidden layer) fitted on the same rows
reads such combinations, and the two models' probabilities are averaged: on
banks that had not seen the question sets, the pair answered and refused more
of them than either model alone (README "How it answers").

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
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from bot.fitted import derived, model_arrays
from bot.retrieval import FEATURES

# Bump when the model or its features change, so `guidebot index` refits it.
ABSTAIN_VERSION = "32"
TARGET_COVERAGE = 0.94
"""94 % rather than 95 %: with some 3,500 off-topic bank questions, 95 % let the threshold slide to 0.45 and
held-out refusals with it; docs/EVALUATION-LOG.md gives the halves' and blind sets' figures at 93, 94 and 95 %."""
REGULARISATION = 0.1
# How much the question embedding counts beside the evidence features.
EMBEDDING_WEIGHT = 0.3
NETWORK_HIDDEN = 64
NETWORK_ALPHA = 1.0
NETWORK_PASSES = 20
"""Passes over the bank, not convergence, end the network's fit: 20 or 40 read the same held-out figures as 400
(where it stops on its own after some 75) in a fraction of the time, and the fit runs at every index build."""
CV_SPLITS = 5
CV_REPEATS = 1


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
        for module in ("sklearn.linear_model", "sklearn.model_selection", "sklearn.neural_network"):
            importlib.import_module(module)
    except ImportError:
        pass  # the fit's own import raises it where it can be reported


def _fit(x: np.ndarray, y: np.ndarray) -> dict:
    """Both models, as the index stores them (`probabilities` reads them): the logistic model on the evidence
    columns standardised (the embedding columns keep their geometry), the network on every column standardised."""
    from sklearn.linear_model import LogisticRegression  # only when fitting: answering needs numpy alone
    from sklearn.neural_network import MLPClassifier

    n_features = len(FEATURES)
    mean = np.zeros(x.shape[1])
    scale = np.ones(x.shape[1])
    mean[:n_features] = x[:, :n_features].mean(axis=0)
    scale[:n_features] = x[:, :n_features].std(axis=0)
    scale[scale < 1e-6] = 1.0
    logistic = LogisticRegression(C=REGULARISATION, class_weight="balanced", solver="liblinear", max_iter=1000)
    logistic.fit(_standardise(x, mean, scale), y)
    net_mean = x.mean(axis=0)
    net_scale = x.std(axis=0)
    net_scale[net_scale < 1e-6] = 1.0
    network = MLPClassifier((NETWORK_HIDDEN,), alpha=NETWORK_ALPHA, max_iter=NETWORK_PASSES, random_state=0)
    network.fit(_standardise(x, net_mean, net_scale), y)
    return {
        "features": list(FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": logistic.coef_[0].tolist(),
        "intercept": float(logistic.intercept_[0]),
        "network": {
            "mean": net_mean.tolist(),
            "scale": net_scale.tolist(),
            "hidden": network.coefs_[0].tolist(),
            "hidden_bias": network.intercepts_[0].tolist(),
            "coef": network.coefs_[1][:, 0].tolist(),
            "intercept": float(network.intercepts_[1][0]),
        },
    }


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
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import RepeatedStratifiedKFold
    from threadpoolctl import threadpool_limits

    x = design(features, vectors)
    rows = np.hstack([np.atleast_2d(features), np.atleast_2d(vectors)]).astype(np.float64)
    y = in_scope.astype(int)
    probs = np.zeros(len(y))
    folds = RepeatedStratifiedKFold(n_splits=CV_SPLITS, n_repeats=CV_REPEATS, random_state=seed)

    def held_out(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return test, probabilities(fold(_fit(x[train], y[train])), rows[test])

    # liblinear and the network's matrix products release the GIL: the folds run on every core, each with one BLAS
    # thread (threads of both on every core took twice as long). The network stops at NETWORK_PASSES on purpose;
    # the filter is set around the threads, as `catch_warnings` is process-wide.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="abstain-fit") as pool:
            for test, fold_probs in pool.map(lambda fold: held_out(*fold), folds.split(x, y)):
                probs[test] += fold_probs / CV_REPEATS
        fitted = _fit(x, y)
    curve = risk_coverage(probs, in_scope.astype(bool), correct.astype(bool))
    point = choose_point(curve)
    return {
        **fitted,
        "threshold": point.threshold,
        "target_coverage": TARGET_COVERAGE,
        "coverage_at_threshold": point.coverage,
        "risk_at_threshold": point.risk,
        "curve": [p.__dict__ for p in curve],
        "training": {"in_scope": int(y.sum()), "out_of_scope": int((1 - y).sum())},
    }


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


@dataclass(frozen=True)
class Folded:
    """The fitted models with each one's standardisation and the embedding's weight (`design`) folded into its weights:
    they read a raw row (evidence, then embedding) with two products and a hidden layer, where building the design
    row and standardising it twice took most of an answer's 70 µs in the abstention model."""

    weights: np.ndarray
    bias: float
    hidden: np.ndarray | None = None
    hidden_bias: np.ndarray | None = None
    coef: np.ndarray | None = None
    intercept: float = 0.0


def fold(params: dict) -> Folded:
    mean, scale, coef = model_arrays(params)
    n_features = len(params["features"])
    row_weight = np.ones(len(mean))
    row_weight[n_features:] = EMBEDDING_WEIGHT * np.sqrt(len(mean) - n_features)
    weights = coef / scale
    bias = float(params["intercept"] - mean @ weights)
    net = params.get("network")
    if not net:
        return Folded(weights * row_weight, bias)
    net_mean, net_scale, hidden, hidden_bias, net_coef = model_arrays(net, ("mean", "scale", "hidden", "hidden_bias", "coef"))
    return Folded(
        weights * row_weight,
        bias,
        hidden / net_scale[:, None] * row_weight[:, None],
        hidden_bias - (net_mean / net_scale) @ hidden,
        net_coef,
        float(net["intercept"]),
    )


def probabilities(model: Folded, rows: np.ndarray) -> np.ndarray:
    """In-scope probabilities of raw rows (evidence features, then the question embedding): the logistic model's,
    averaged with the network's where the index has one. The fit's held-out folds are scored here too, so the
    threshold is chosen on what answering computes."""
    logistic = _sigmoid(rows @ model.weights + model.bias)
    if model.hidden is None:
        return logistic
    activations = np.maximum(rows @ model.hidden + model.hidden_bias, 0.0)
    return (logistic + _sigmoid(activations @ model.coef + model.intercept)) / 2


def in_scope_probability(params: dict, features: dict[str, float], vector: np.ndarray) -> float:
    """`probabilities` of one question, from the index's models folded once per loaded index."""
    row = np.concatenate([np.fromiter((features[name] for name in params["features"]), dtype=np.float64), vector])
    return float(probabilities(derived(params, fold), row[None, :])[0])
