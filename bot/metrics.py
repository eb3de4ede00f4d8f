"""Prometheus metrics shared by the core and the server (one registry per process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

QUESTIONS = Counter(
    "guidebot_questions", "Questions received, by platform and outcome", ["platform", "outcome"], registry=REGISTRY
)
FEEDBACK = Counter("guidebot_feedback", "Feedback clicks, by platform and value", ["platform", "value"], registry=REGISTRY)
FEEDBACK_UNATTRIBUTED = Counter(
    "guidebot_feedback_unattributed",
    "Feedback votes stored without an answer: the platform did not say for certain which answer was rated",
    ["platform", "value"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "guidebot_answer_seconds",
    "Time to answer a question in the core",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
ERRORS = Counter("guidebot_errors", "Errors, by component", ["component"], registry=REGISTRY)
INDEX_RELOADS = Counter("guidebot_index_reloads", "Index hot reloads", registry=REGISTRY)
