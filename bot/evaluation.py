"""Answer quality on question sets: Hit@1, Hit@3, MRR@5, lead hit, answered and refused shares, answer length.

A passage is a hit when it contains one of the question's gold phrases verbatim,
and the lead is a hit when one of its sentences does (a first-line hit when its
first sentence does: what a chat notification shows). Gold phrases are copied by
hand, so the comparison ignores case, spacing and the typography of quotes and
dashes. A question with a gold section and no phrase is a hit where the passage
(or the lead's passage) is from that section.
Hits are counted over the passages retrieved whether or not the bot then
abstains, so retrieval and abstention are measured separately.
"""

from __future__ import annotations

import json
import statistics
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.answer import Answer
from bot.engine import AnswerEngine
from bot.query import TYPOGRAPHY


@dataclass(frozen=True)
class QuestionResult:
    question: str
    answered: bool
    rank: int | None
    sections: tuple[str, ...]
    confidence: float
    lead: tuple[str, ...] = ()
    lead_hit: bool = False
    first_line_hit: bool = False
    passages_shown: int = 0
    message_chars: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalReport:
    questions: int
    hit_at_1: float
    hit_at_3: float
    mrr_at_5: float
    lead_hit: float
    first_line_hit: float
    """Share of on-topic questions whose lead's first sentence (the notification, the message's first line) is a hit."""
    answered: float
    oos_questions: int
    oos_refused: float
    mean_passages: float
    """Passages an answered on-topic question shows, on average."""
    max_lead_chars: int
    median_message_chars: dict[str, float] = field(default_factory=dict)
    """Per renderer (`slack`, `teams` …): the median characters of the answer message over the answered on-topic questions."""
    operating_point: dict[str, float] = field(default_factory=dict)
    """The abstention model's threshold, as chosen at index time on the banks' cross-validation folds: the
    in-scope share it answers there (`coverage`, aimed at `target_coverage`) and the share of its answers that
    were wrong (`risk`, pessimistic: the out-of-scope bank is adversarial). Empty for an index without banks."""
    misses: list[QuestionResult] = field(default_factory=list)
    lead_misses: list[QuestionResult] = field(default_factory=list)
    abstained_on_topic: list[QuestionResult] = field(default_factory=list)
    answered_off_topic: list[QuestionResult] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


MessageSize = Callable[[Answer], int]
"""How many characters a platform's answer message shows (all of its visible text)."""


def plain(text: str) -> str:
    """Text as gold phrases are compared with it: NFKC, straight quotes and hyphens, single spaces, no case."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(TYPOGRAPHY).casefold().split())


@dataclass(frozen=True)
class Gold:
    phrases: tuple[str, ...]
    section: str | None

    @classmethod
    def of(cls, row: dict) -> Gold:
        gold = row.get("gold") or ()
        phrases = (gold,) if isinstance(gold, str) else gold
        section = row.get("section")
        return cls(tuple(plain(p) for p in phrases if p.strip()), plain(section) if isinstance(section, str) else None)

    def in_text(self, text: str) -> bool:
        return any(p in plain(text) for p in self.phrases)

    def in_passage(self, text: str, section: str) -> bool:
        if self.phrases:
            return self.in_text(text)
        return self.section is not None and plain(section) == self.section


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
        gold = row.get("gold")
        if gold is not None and not isinstance(gold, str) and not (isinstance(gold, list) and all(isinstance(g, str) for g in gold)):
            raise ValueError(f'{path}:{n}: "gold" must be a phrase or a list of phrases')
        rows.append(row)
    return rows


def _results(engine: AnswerEngine, rows: list[dict], sizes: dict[str, MessageSize], depth: int = 5) -> list[QuestionResult]:
    """Hits and the lead are measured on what the engine would show, whether or not it then abstains."""
    queries = [engine.query(r["q"]) for r in rows]
    vectors, asks, readings = engine.encode_with_asks(queries)
    results = []
    for row, query, vector, ask, reading in zip(rows, queries, vectors, asks, readings, strict=True):
        evidence = engine.evidence(query, vector, reading.wording)
        confidence, in_scope = engine.in_scope(query, evidence, ask, reading)
        composed = engine.compose(evidence, depth=depth)
        gold = Gold.of(row)
        rank = next((n for n, p in enumerate(composed.ranked, start=1) if gold.in_passage(p.text, p.source.section)), None)
        lead = tuple(s.text for s in composed.lead)
        if gold.phrases:
            hits = [gold.in_text(s) for s in lead]
        else:
            hits = [gold.in_passage("", composed.passages[s.passage].source.section) for s in composed.lead]
        answer = Answer(question=row["q"], passages=composed.passages, lead=composed.lead, confidence=confidence, answer_id="0" * 16)
        results.append(
            QuestionResult(
                question=row["q"],
                answered=in_scope,
                rank=rank,
                sections=tuple(p.source.section for p in composed.ranked[:3]),
                confidence=confidence,
                lead=lead,
                lead_hit=any(hits),
                first_line_hit=bool(hits) and hits[0],
                passages_shown=len(composed.passages),
                message_chars={name: size(answer) for name, size in sizes.items()} if in_scope else {},
            )
        )
    return results


def operating_point(params: dict) -> dict[str, float]:
    keys = {"threshold": "threshold", "target_coverage": "target_coverage", "coverage": "coverage_at_threshold", "risk": "risk_at_threshold"}
    if params.get("threshold") is None:
        return {}
    return {name: float(params[key]) for name, key in keys.items() if params.get(key) is not None}


def evaluate(
    engine: AnswerEngine, on_topic: list[dict], off_topic: list[dict], sizes: dict[str, MessageSize] | None = None
) -> EvalReport:
    on = _results(engine, on_topic, sizes or {}) if on_topic else []
    off = _results(engine, off_topic, {}) if off_topic else []
    n = len(on) or 1
    answered = [r for r in on if r.answered]
    return EvalReport(
        questions=len(on),
        hit_at_1=sum(r.rank == 1 for r in on) / n,
        hit_at_3=sum(r.rank is not None and r.rank <= 3 for r in on) / n,
        mrr_at_5=sum(1 / r.rank for r in on if r.rank is not None and r.rank <= 5) / n,
        lead_hit=sum(r.lead_hit for r in on) / n,
        first_line_hit=sum(r.first_line_hit for r in on) / n,
        answered=len(answered) / n,
        oos_questions=len(off),
        oos_refused=sum(not r.answered for r in off) / (len(off) or 1),
        mean_passages=statistics.fmean([r.passages_shown for r in answered]) if answered else 0.0,
        max_lead_chars=max((sum(len(s) for s in r.lead) + max(0, len(r.lead) - 1) for r in on), default=0),
        median_message_chars={
            name: float(statistics.median([r.message_chars[name] for r in answered])) for name in (sizes or {}) if answered
        },
        operating_point=operating_point(engine.index.abstain),
        misses=[r for r in on if r.rank is None or r.rank > 1],
        lead_misses=[r for r in on if not r.lead_hit],
        abstained_on_topic=[r for r in on if not r.answered],
        answered_off_topic=[r for r in off if r.answered],
    )
