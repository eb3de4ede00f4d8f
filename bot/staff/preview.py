"""A preview of a change to the guide: a candidate index built from the changed document, and the
questions whose answers it would change.

The candidate is built by the real indexing code (`bot.indexing.stage_index`) from a copy of the
knowledge directory with the change applied, in the data dir, so the embedding cache serves every
chunk and bank question that did not change. Then the same questions are answered by the live
engine and the candidate's: the distinct questions members asked most recently (already redacted
when logged) and samples of the two question banks the abstention gate is fitted on. An answer
changes when it is newly given, newly refused, led from another section, or led by other words.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from bot.answer import Answer
from bot.engine import AnswerEngine
from bot.indexing import StagedIndex, stage_index
from bot.settings import Settings
from index.embedder import Embedder
from index.guide_index import load_index
from knowledge.bank import load_in_scope, load_out_of_scope

Kind = Literal["newly answered", "newly refused", "different section", "lead changed"]
KINDS: tuple[Kind, ...] = ("newly answered", "newly refused", "different section", "lead changed")
SOURCES = ("logged questions", "in-scope bank", "out-of-scope bank")
LOGGED_QUESTIONS = 500
"""The most recent distinct logged questions a preview answers."""
IN_SCOPE_SAMPLE = 2000
OUT_OF_SCOPE_SAMPLE = 600
"""Questions of each bank a preview answers, spread evenly over the bank: the whole in-scope bank (1,172,
the answers the guide is known to give) and half the out-of-scope one (1,096). Measured on 2 cores
shared with other work: the candidate build takes 4–20 s and an answer ~11 ms, so a first preview
(500 logged questions and ~1,770 bank questions answered by both engines) took 61 s, and the next,
whose live answers to the banks are kept (`LiveAnswers`), 32 s; both whole banks made a first preview
~86 s, 400 of each ~52 s (with fewer of the changed leads found)."""
BATCH = 32

Step = Callable[[str, int, int], None]
"""Progress: what is being done, how many of how many questions are answered."""


class Engines(Protocol):
    """What a preview needs of the server's engine holder (`bot.service.EngineHolder`)."""

    @property
    def embedder(self) -> Embedder: ...

    def engine(self) -> AnswerEngine: ...

    def refresh(self) -> bool: ...


@dataclass(frozen=True)
class Change:
    """A proposed new version of one document."""

    document_id: str
    path: Path
    """The live file it replaces (its new text is Markdown, so a `.txt` or `.html` one becomes `.md`)."""
    text: str
    what: str
    """In words, for the page and the audit log: "edited section Medical Director Roles"."""
    base_hash: str
    """The live file's `content_hash` when the change was made: publishing refuses if it has changed since."""

    @property
    def target(self) -> Path:
        return self.path.with_suffix(".md") if self.path.suffix.lower() not in (".md", ".markdown") else self.path


@dataclass(frozen=True)
class Outcome:
    answered: bool
    section: str
    lead: str

    def to_json(self) -> dict[str, Any]:
        return {"answered": self.answered, "section": self.section, "lead": self.lead}


@dataclass(frozen=True)
class QuestionChange:
    question: str
    source: str
    kind: Kind
    before: Outcome
    after: Outcome

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "source": self.source, "kind": self.kind, "before": self.before.to_json(), "after": self.after.to_json()}


@dataclass
class Preview:
    change: Change
    build: StagedIndex
    asked: dict[str, int] = field(default_factory=dict)
    changes: list[QuestionChange] = field(default_factory=list)
    build_seconds: float = 0.0
    answer_seconds: float = 0.0

    def count(self, kind: Kind, source: str | None = None) -> int:
        return sum(1 for c in self.changes if c.kind == kind and (source is None or c.source == source))

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.change.document_id,
            "change": self.change.what,
            "candidate_corpus_hash": self.build.manifest.corpus_hash,
            "build_seconds": round(self.build_seconds, 1),
            "answer_seconds": round(self.answer_seconds, 1),
            "asked": dict(self.asked),
            "counts": {source: {kind: self.count(kind, source) for kind in KINDS} for source in self.asked},
            "changes": [c.to_json() for c in self.changes],
        }


def outcome(answer: Answer) -> Outcome:
    if not answer.answered:
        return Outcome(False, "", "")
    lead = " ".join(s.text for s in answer.lead)
    passage = answer.lead[0].passage if answer.lead else 0
    passages = answer.passages
    section = passages[passage].source.label if 0 <= passage < len(passages) else ""
    return Outcome(True, section, lead)


def compare(before: Outcome, after: Outcome) -> Kind | None:
    if before.answered != after.answered:
        return "newly answered" if after.answered else "newly refused"
    if not before.answered:
        return None
    if before.section != after.section:
        return "different section"
    return "lead changed" if before.lead != after.lead else None


def bank_sample(texts: list[str], cap: int) -> list[str]:
    """At most `cap` of `texts`, taken at even steps, so every part of the bank (and every section) is in it."""
    if len(texts) <= cap:
        return list(texts)
    return [texts[i * len(texts) // cap] for i in range(cap)]


def candidate_knowledge(settings: Settings, change: Change, into: Path) -> Path:
    """A copy of what an index is built from (documents, question banks, glossary), the change applied."""
    knowledge = into / "knowledge"
    shutil.copytree(settings.documents_dir, knowledge / "documents")
    questions = settings.knowledge_dir / "questions"
    if questions.is_dir():
        shutil.copytree(questions, knowledge / "questions")
    glossary = settings.knowledge_dir / "glossary.yaml"
    if glossary.exists():
        shutil.copy2(glossary, knowledge / "glossary.yaml")
    relative = change.path.relative_to(settings.documents_dir)
    (knowledge / "documents" / relative).unlink(missing_ok=True)
    target = knowledge / "documents" / change.target.relative_to(settings.documents_dir)
    target.write_text(change.text, encoding="utf-8")
    return knowledge


def build_candidate(settings: Settings, engines: Engines, change: Change, work: Path, step: Step) -> tuple[StagedIndex, AnswerEngine]:
    """Stage an index from the changed knowledge (in the data dir, for its embedding cache) and load it."""
    knowledge = candidate_knowledge(settings, change, work)
    candidate_settings = settings.model_copy(update={"knowledge_dir": knowledge})
    staged = stage_index(candidate_settings, engines.embedder, progress=lambda message: step(f"Building the candidate index: {message}", 0, 0))
    build = work / "index"
    staged.path.rename(build)
    staged = StagedIndex(build, staged.manifest, staged.texts, staged.embedded)
    index = load_index(build, expected_model=engines.embedder.name)
    engine = AnswerEngine(index, engines.embedder, top_k=settings.top_k, max_chars=settings.max_question_chars)
    return staged, engine


def question_sets(settings: Settings, logged: list[str]) -> dict[str, list[str]]:
    questions = settings.knowledge_dir / "questions"
    return {
        "logged questions": logged,
        "in-scope bank": bank_sample([q.text for q in load_in_scope(questions)], IN_SCOPE_SAMPLE),
        "out-of-scope bank": bank_sample([q.text for q in load_out_of_scope(questions)], OUT_OF_SCOPE_SAMPLE),
    }


class LiveAnswers:
    """The live engine's outcomes for the bank questions, kept while the same index is live, so a second
    preview answers them with its candidate only. Members' logged questions are never kept here."""

    def __init__(self) -> None:
        self._index: Path | None = None
        self._outcomes: dict[str, Outcome] = {}

    def answer(self, engine: AnswerEngine, questions: list[str], *, keep: bool) -> list[Outcome]:
        if engine.index.path != self._index:
            self._index, self._outcomes = engine.index.path, {}
        if not keep:
            return [outcome(a) for a in engine.answer_many(questions)]
        missing = [q for q in dict.fromkeys(questions) if q not in self._outcomes]
        if missing:
            self._outcomes.update(zip(missing, map(outcome, engine.answer_many(missing)), strict=True))
        return [self._outcomes[q] for q in questions]


def run_preview(
    settings: Settings, engines: Engines, change: Change, logged: list[str], work: Path, step: Step, live: LiveAnswers | None = None
) -> Preview:
    """Build the candidate, answer every question with both engines, and keep the answers that differ."""
    live = live or LiveAnswers()
    started = time.perf_counter()
    step("Building the candidate index", 0, 0)
    staged, candidate = build_candidate(settings, engines, change, work, step)
    preview = Preview(change, staged, build_seconds=time.perf_counter() - started)
    sets = question_sets(settings, logged)
    total = sum(len(texts) for texts in sets.values())
    done = 0
    answering = time.perf_counter()
    for source, texts in sets.items():
        preview.asked[source] = len(texts)
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            step(f"Answering the {source}", done, total)
            now = live.answer(engines.engine(), batch, keep=source != "logged questions")
            after = candidate.answer_many(batch)
            for question, before_outcome, new in zip(batch, now, after, strict=True):
                after_outcome = outcome(new)
                kind = compare(before_outcome, after_outcome)
                if kind is not None:
                    preview.changes.append(QuestionChange(question, source, kind, before_outcome, after_outcome))
            done += len(batch)
    preview.answer_seconds = time.perf_counter() - answering
    step("Done", total, total)
    return preview
