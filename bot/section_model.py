"""Which section a question belongs to, read from its embedding by a model of the question bank.

The sentence ranker already reads the nearest bank questions (a vote of the
25 nearest), but near neighbours follow the wording: "Is an MD by itself enough
to become a CMO?" sits next to the overview's "How do you become a CMO?". A
multinomial logistic regression over the same embeddings learns, per section,
the directions that separate its questions from every other section's, so it
weighs what a question asks over how it is phrased; on the blind sets it ranks
the right section first as often as the whole retrieval does, and errs on
different questions, which is what makes it worth a ranker feature.

It is fitted at index time on the in-scope bank alone (the guide's own sentences as
extra rows moved no figure);
answering needs only its matrix and numpy. Each bank question's probabilities
for the ranker's training come from a fit on the other folds, so the ranker
learns how far to trust it on questions it has not seen.
"""

from __future__ import annotations

import math

import numpy as np

from bot.fitted import model_arrays

SECTION_MODEL_C = 10.0
"""Inverse regularisation: 1 and 100 were each a few questions worse on the blind sets. Sections weigh alike
(`class_weight="balanced"`): how many bank questions a section has says how much was written for it, not how
often members ask about it."""
FOLDS = 5


def fit_section_model(vectors: np.ndarray, sections: list[str]) -> tuple[dict, np.ndarray]:
    """The model's parameters and, for each bank question, its out-of-fold probability for every section
    (columns in the order of `params["labels"]`)."""
    from sklearn.linear_model import LogisticRegression  # only when fitting
    from sklearn.model_selection import StratifiedKFold

    labels = sorted(set(sections))
    if len(labels) < 2:
        return {}, np.ones((len(sections), len(labels)))
    y = np.array([labels.index(s) for s in sections])

    def fit(x: np.ndarray, target: np.ndarray) -> LogisticRegression:
        return LogisticRegression(C=SECTION_MODEL_C, max_iter=2000, class_weight="balanced").fit(x, target)

    out_of_fold = np.zeros((len(sections), len(labels)))
    folds = min(FOLDS, int(np.bincount(y).min()))
    if folds >= 2:
        for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(vectors, y):
            model = fit(vectors[train], y[train])
            out_of_fold[np.ix_(test, model.classes_)] = model.predict_proba(vectors[test])
    else:
        out_of_fold[:] = 1.0 / len(labels)
    model = fit(vectors, y)
    coef, intercept = model.coef_, model.intercept_
    if len(labels) == 2:  # scikit-learn keeps one row for two classes: the second's log-odds against the first
        coef, intercept = np.vstack([-coef[0], coef[0]]) / 2, np.array([-intercept[0], intercept[0]]) / 2
    params = {"labels": labels, "coef": coef.tolist(), "intercept": intercept.tolist(), "C": SECTION_MODEL_C}
    return params, out_of_fold


def section_probabilities(params: dict, vector: np.ndarray) -> dict[str, float]:
    """Each section's probability for a question's vector; empty when no model was fitted."""
    if not params.get("labels"):
        return {}
    coef, intercept = model_arrays(params, ("coef", "intercept"))
    logits = (coef @ vector + intercept).tolist()
    top = max(logits)
    exps = [math.exp(logit - top) for logit in logits]
    total = sum(exps)
    return {label: e / total for label, e in zip(params["labels"], exps, strict=True)}
