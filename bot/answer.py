"""The platform-neutral values that flow from the core to every renderer.

Renderers (Slack Block Kit, Teams Adaptive Cards, HTML, terminal, JSON) take
these values and nothing else: no settings, no I/O.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

def new_answer_id() -> str:
    """Platforms echo this id back with feedback clicks, so it must be unique and short."""
    return secrets.token_hex(8)


AbstainReason = Literal["empty", "out_of_scope", "phi", "error"]


@dataclass(frozen=True)
class Source:
    """Where a quoted passage comes from, in words a member understands."""

    document_id: str
    document_title: str
    section: str
    section_slug: str
    url: str | None = None

    @property
    def label(self) -> str:
        return f"{self.document_title} › {self.section}" if self.section else self.document_title


@dataclass(frozen=True)
class Passage:
    """One verbatim quote from a document, with the sentence that best answers."""

    text: str
    source: Source
    chunk_id: str
    score: float
    best_sentence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "document": self.source.document_title,
            "document_id": self.source.document_id,
            "section": self.source.section,
            "source": self.source.label,
            "url": self.source.url,
            "chunk_id": self.chunk_id,
            "best_sentence": self.best_sentence,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class LeadSentence:
    """One of the guide's sentences that answers the question, verbatim, and the passage it is quoted in.

    Members read the first line of a chat message and little more, so every
    renderer opens an answer with its lead and cites it by `passage` (0-based
    here; 1-based in JSON, as the citation numbers members see).
    """

    text: str
    passage: int

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "passage": self.passage + 1}


@dataclass(frozen=True)
class Answer:
    """What the bot says to a question: a lead and the passages it comes from, or a plain abstention."""

    question: str
    passages: tuple[Passage, ...] = ()
    lead: tuple[LeadSentence, ...] = ()
    abstained: bool = False
    reason: AbstainReason | None = None
    message: str = ""
    confidence: float = 0.0
    suggestions: tuple[str, ...] = ()
    answer_id: str = ""

    @property
    def answered(self) -> bool:
        return not self.abstained

    @property
    def sources(self) -> tuple[Source, ...]:
        """Distinct sources in passage order; renderers number them [1], [2] …"""
        seen: dict[tuple[str, str], Source] = {}
        for passage in self.passages:
            seen.setdefault((passage.source.document_id, passage.source.section), passage.source)
        return tuple(seen.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "reason": self.reason,
            "message": self.message,
            "confidence": round(self.confidence, 4),
            "answer_id": self.answer_id,
            "lead": [sentence.to_json() for sentence in self.lead],
            "passages": [p.to_json() for p in self.passages],
            "suggestions": list(self.suggestions),
        }


@dataclass(frozen=True)
class SummaryPoint:
    """One extractive point of a summary: a quoted sentence and where it is from."""

    text: str
    source: Source
    chunk_id: str = ""
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label,
            "source": self.source.label,
            "section": self.source.section,
            "document_id": self.source.document_id,
            "url": self.source.url,
            "chunk_id": self.chunk_id,
        }


SummaryKind = Literal["role", "credential", "path", "roles", "credentials", "help", "unknown"]


@dataclass(frozen=True)
class Summary:
    """A command's result (`role vpma`, `path`, `help` …), rendered like an answer."""

    kind: SummaryKind
    title: str
    points: tuple[SummaryPoint, ...] = ()
    intro: str = ""
    suggestions: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "intro": self.intro,
            "points": [p.to_json() for p in self.points],
            "suggestions": list(self.suggestions),
        }


Reply = Answer | Summary
