"""The staff report: how much the bot is asked, how often it answers, where the guide falls short.

`build_report` reads the store once and returns a plain `Report`; the renderers
(terminal table, CSV, JSON) are pure functions of that value.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

import numpy as np
from rapidfuzz import fuzz, process
from rich.console import Group
from rich.table import Table
from rich.text import Text

from bot.store import NO_SECTION, StateStore, without_controls

Embed = Callable[[list[str]], np.ndarray]
Grouping = Literal["embeddings", "fuzzy"]

EMBEDDING_THRESHOLD = 0.6
"""Cosine similarity at which an unanswered question joins a group."""
FUZZY_THRESHOLD = 80.0
"""Fuzzy similarity (0–100) at which it joins one without embeddings."""
MAX_EXAMPLES = 5
NOT_GUIDE_GAPS = frozenset({"phi", "empty"})
"""Abstentions that say nothing about the guide: patient details, empty messages."""
NO_SECTION_LABEL = "(no section)"


@dataclass(frozen=True)
class PlatformStats:
    platform: str
    questions: int
    answered: int

    @property
    def answer_rate(self) -> float:
        return self.answered / self.questions if self.questions else 0.0


@dataclass(frozen=True)
class QuestionGroup:
    """Unanswered questions that ask the same thing: one gap in the guide."""

    representative: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class SectionFeedback:
    section: str
    up: int
    down: int


@dataclass(frozen=True)
class Report:
    since: datetime | None
    platforms: tuple[PlatformStats, ...]
    unanswered: tuple[QuestionGroup, ...]
    feedback: tuple[SectionFeedback, ...]
    grouping: Grouping
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def questions(self) -> int:
        return sum(p.questions for p in self.platforms)

    @property
    def answered(self) -> int:
        return sum(p.answered for p in self.platforms)

    @property
    def answer_rate(self) -> float:
        return self.answered / self.questions if self.questions else 0.0


def build_report(store: StateStore, since: datetime | None, embed: Embed | None = None) -> Report:
    """Everything staff see, from the question log and feedback since `since` (all time if None)."""
    records = store.questions(since)
    asked = Counter(r.platform for r in records)
    answered = Counter(r.platform for r in records if r.answered)
    platforms = tuple(PlatformStats(p, asked[p], answered[p]) for p in sorted(asked))
    # Stripped again here for rows stored before the store stripped control characters itself.
    gaps = [without_controls(r.question) for r in records if not r.answered and r.reason not in NOT_GUIDE_GAPS]
    return Report(
        since=since,
        platforms=platforms,
        unanswered=tuple(group_questions(gaps, embed)),
        feedback=tuple(_feedback_by_section(store, since)),
        grouping="embeddings" if embed is not None else "fuzzy",
    )


def _feedback_by_section(store: StateStore, since: datetime | None) -> list[SectionFeedback]:
    """Live votes plus the daily counts that purging left behind."""
    votes: Counter[tuple[str, str]] = Counter()
    for record in store.feedback(since):
        for section in record.sections or (NO_SECTION,):
            votes[section, record.value] += 1
    for total in store.feedback_totals(since):
        votes[total.section, total.value] += total.count
    sections = {section for section, _ in votes}
    rows = [
        SectionFeedback(section or NO_SECTION_LABEL, votes[section, "up"], votes[section, "down"])
        for section in sections
    ]
    return sorted(rows, key=lambda row: (-(row.up + row.down), -row.down, row.section))


_STOPWORDS = frozenset(
    """
    a about am an and are as at be can could do does for from have how i i'm if in is it me my
    of on or should so that the there this to was what when where which who why will with would
    you your
    """.split()
)


def _key(question: str) -> str:
    return " ".join(question.casefold().split()).rstrip("?!. ")


def _content_words(question: str) -> str:
    words = re.findall(r"[\w'’]+", question.casefold())
    return " ".join(word for word in words if word not in _STOPWORDS)


def group_questions(
    questions: Sequence[str],
    embed: Embed | None = None,
    *,
    threshold: float = EMBEDDING_THRESHOLD,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
) -> list[QuestionGroup]:
    """Group questions that ask the same thing, biggest group first.

    Greedy, in order of how often each phrasing was asked: a phrasing joins the
    most similar existing group if it is similar enough, else starts its own,
    so the most-asked phrasing represents each group. With `embed`, similarity
    is the cosine to the group's centroid; without it, rapidfuzz's
    token_set_ratio (see `_fuzzy_similarity`) to the group's first phrasing
    after dropping stop words, which would otherwise make "What is a CMO?"
    match "What is a VPMA?".
    """
    return group_counted(((question, 1) for question in questions), embed, threshold=threshold, fuzzy_threshold=fuzzy_threshold)


def group_counted(
    counted: Iterable[tuple[str, int]],
    embed: Embed | None = None,
    *,
    threshold: float = EMBEDDING_THRESHOLD,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
) -> list[QuestionGroup]:
    """`group_questions` for questions already counted (each text with how often it was asked), so that a
    caller counting in SQL (the staff dashboard) groups each wording once, however often it was asked."""
    counts: Counter[str] = Counter()
    phrasing: dict[str, str] = {}
    for question, asked in counted:
        key = _key(question)
        counts[key] += asked
        phrasing.setdefault(key, question.strip())
    ordered = sorted(counts, key=lambda key: -counts[key])
    texts = [phrasing[key] for key in ordered]
    weights = [counts[key] for key in ordered]
    if embed is not None and texts:
        clusters = _by_embedding(texts, weights, embed, threshold)
    else:
        clusters = _by_fuzzy_match(texts, fuzzy_threshold)
    groups = [
        QuestionGroup(
            representative=texts[members[0]],
            count=sum(weights[i] for i in members),
            examples=tuple(texts[i] for i in members[:MAX_EXAMPLES]),
        )
        for members in clusters
    ]
    return sorted(groups, key=lambda group: -group.count)


def _by_embedding(texts: list[str], weights: list[int], embed: Embed, threshold: float) -> list[list[int]]:
    vectors = np.asarray(embed(texts), dtype=np.float32)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sums = np.zeros_like(vectors)  # each group's count-weighted sum of member vectors
    lengths = np.zeros(len(texts), dtype=np.float32)
    groups: list[list[int]] = []
    for index, vector in enumerate(vectors):
        target = len(groups)
        if groups:
            cosines = (sums[: len(groups)] @ vector) / np.maximum(lengths[: len(groups)], 1e-12)
            best = int(np.argmax(cosines))
            if cosines[best] >= threshold:
                target = best
        if target == len(groups):
            groups.append([])
        groups[target].append(index)
        sums[target] += weights[index] * vector
        lengths[target] = np.linalg.norm(sums[target])
    return groups


def _by_fuzzy_match(texts: list[str], threshold: float) -> list[list[int]]:
    words = [_content_words(text) for text in texts]
    leaders: list[str] = []
    groups: list[list[int]] = []
    for index, text_words in enumerate(words):
        target = len(groups)
        if leaders and text_words:
            scores = _fuzzy_similarity(text_words, leaders)
            best = int(np.argmax(scores))
            if scores[best] >= threshold:
                target = best
        if target == len(groups):
            groups.append([])
            leaders.append(text_words)
        groups[target].append(index)
    return groups


def _fuzzy_similarity(question: str, leaders: list[str]) -> np.ndarray:
    """token_set_ratio to each leader, tempered by token_sort_ratio.

    token_set_ratio alone is 100 whenever one question's words are a subset of
    the other's, so a bare "CMO?" would swallow every question about CMOs.
    """
    by_set = process.cdist([question], leaders, scorer=fuzz.token_set_ratio)[0]
    by_sort = process.cdist([question], leaders, scorer=fuzz.token_sort_ratio)[0]
    return (by_set + by_sort) / 2


def _percent(rate: float) -> str:
    return f"{rate:.0%}"


def report_to_table(report: Report) -> Group:
    """The report for a terminal: usage by platform, gaps in the guide, votes by section."""
    since = report.since.strftime("%Y-%m-%d") if report.since else "the start"
    usage = Table(title=f"Questions since {since}")
    for column in ("Platform", "Questions", "Answered", "Answer rate"):
        usage.add_column(column, justify="left" if column == "Platform" else "right")
    for platform in report.platforms:
        usage.add_row(
            platform.platform,
            str(platform.questions),
            str(platform.answered),
            _percent(platform.answer_rate),
        )
    usage.add_section()
    usage.add_row(
        Text("all", style="bold"),
        str(report.questions),
        str(report.answered),
        _percent(report.answer_rate),
    )

    gaps = Table(title=f"Unanswered questions, grouped ({report.grouping})")
    gaps.add_column("Asked", justify="right")
    gaps.add_column("Question")
    gaps.add_column("Also asked as")
    for group in report.unanswered:
        gaps.add_row(str(group.count), group.representative, "\n".join(group.examples[1:]))

    votes = Table(title="Feedback by section")
    votes.add_column("Section")
    votes.add_column("👍", justify="right")
    votes.add_column("👎", justify="right")
    for row in report.feedback:
        votes.add_row(row.section, str(row.up), str(row.down))
    return Group(usage, gaps, votes)


CSV_COLUMNS = ("kind", "key", "questions", "answered", "answer_rate", "count", "up", "down", "examples")


def report_to_csv(report: Report) -> str:
    """One rectangular table for a spreadsheet; `kind` says which part of the report a row is.

    kinds: `platform` and `total` (usage), `unanswered` (a group of similar
    questions, examples joined by " | "), `feedback` (votes for one section).
    Cells of members' text never start a formula (`_cell`).
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for platform in report.platforms:
        writer.writerow(_usage_row("platform", platform.platform, platform))
    writer.writerow(
        _usage_row("total", "all", PlatformStats("all", report.questions, report.answered))
    )
    for group in report.unanswered:
        writer.writerow(
            {
                "kind": "unanswered",
                "key": _cell(group.representative),
                "count": group.count,
                "examples": _cell(" | ".join(group.examples)),
            }
        )
    for row in report.feedback:
        writer.writerow({"kind": "feedback", "key": _cell(row.section), "up": row.up, "down": row.down})
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A member's words as a CSV cell that a spreadsheet shows as text: one starting like a formula
    (`=HYPERLINK(…)`, `+`, `-`, `@`, a tab or a return) gets a leading apostrophe, as OWASP advises."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _usage_row(kind: str, key: str, stats: PlatformStats) -> dict[str, Any]:
    return {
        "kind": kind,
        "key": key,
        "questions": stats.questions,
        "answered": stats.answered,
        "answer_rate": round(stats.answer_rate, 4),
    }


def report_to_json(report: Report) -> dict[str, Any]:
    return {
        "since": report.since.isoformat() if report.since else None,
        "generated_at": report.generated_at.isoformat(),
        "questions": report.questions,
        "answered": report.answered,
        "answer_rate": round(report.answer_rate, 4),
        "platforms": [
            {
                "platform": p.platform,
                "questions": p.questions,
                "answered": p.answered,
                "answer_rate": round(p.answer_rate, 4),
            }
            for p in report.platforms
        ],
        "grouping": report.grouping,
        "unanswered": [
            {"representative": g.representative, "count": g.count, "examples": list(g.examples)}
            for g in report.unanswered
        ],
        "feedback_by_section": [
            {"section": f.section, "up": f.up, "down": f.down} for f in report.feedback
        ],
    }
