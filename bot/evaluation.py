"""Retrieval quality on question sets: Hit@1, Hit@3, MRR@5, answered and refused shares.

A passage is a hit when it contains one of the question's gold phrases verbatim.
Hits are counted over the passages retrieved whether or not the bot then
abstains, so retrieval and abstention are measured separately.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.engine import AnswerEngine


@dataclass(frozen=True)
class QuestionResult:
    question: str
    answered: bool
    rank: int | None
    sections: tuple[str, ...]
    confidence: float


@dataclass(frozen=True)
class EvalReport:
    questions: int
    hit_at_1: float
    hit_at_3: float
    mrr_at_5: float
    answered: float
    oos_questions: int
    oos_refused: float
    misses: list[QuestionResult] = field(default_factory=list)
    abstained_on_topic: list[QuestionResult] = field(default_factory=list)
    answered_off_topic: list[QuestionResult] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not isinstance(row.get("q"), str):
            raise ValueError(f'{path}:{n}: each line must be an object with a "q" string')
        rows.append(row)
    return rows


def _results(engine: AnswerEngine, rows: list[dict], depth: int = 5) -> list[QuestionResult]:
    queries = [engine.query(r["q"]) for r in rows]
    vectors = engine.encode(queries)
    results = []
    engine_top_k = engine.top_k
    engine.top_k = depth
    try:
        for row, query, vector in zip(rows, queries, vectors):
            evidence = engine.evidence(query, vector)
            confidence, in_scope = engine.confidence(evidence)
            passages = engine._passages(evidence)
            gold = row.get("gold") or []
            rank = next((n for n, p in enumerate(passages, start=1) if any(g in p.text for g in gold)), None)
            results.append(
                QuestionResult(row["q"], in_scope, rank, tuple(p.source.section for p in passages[:3]), confidence)
            )
    finally:
        engine.top_k = engine_top_k
    return results


def evaluate(engine: AnswerEngine, on_topic: list[dict], off_topic: list[dict]) -> EvalReport:
    on = _results(engine, on_topic) if on_topic else []
    off = _results(engine, off_topic) if off_topic else []
    n = len(on) or 1
    return EvalReport(
        questions=len(on),
        hit_at_1=sum(r.rank == 1 for r in on) / n,
        hit_at_3=sum(r.rank is not None and r.rank <= 3 for r in on) / n,
        mrr_at_5=sum(1 / r.rank for r in on if r.rank is not None and r.rank <= 5) / n,
        answered=sum(r.answered for r in on) / n,
        oos_questions=len(off),
        oos_refused=sum(not r.answered for r in off) / (len(off) or 1),
        misses=[r for r in on if r.rank is None or r.rank > 1],
        abstained_on_topic=[r for r in on if not r.answered],
        answered_off_topic=[r for r in off if r.answered],
    )
