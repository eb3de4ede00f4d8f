"""Question banks: what members ask that a document answers, and what a guide bot declines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.yamlfile import read_yaml

OUT_OF_SCOPE_FILE = "out-of-scope.yaml"


@dataclass(frozen=True)
class BankQuestion:
    text: str
    document_id: str
    section_slug: str
    answer: str | None = None
    """A verbatim phrase of the sentence that answers it, when the bank names one."""


def _in_scope(entry: object, document_id: str, slug: str) -> BankQuestion:
    """A bank entry is a question, or `{q: question, answer: verbatim phrase of the answering sentence}`."""
    if isinstance(entry, dict):
        answer = entry.get("answer")
        return BankQuestion(str(entry.get("q", "")), document_id, slug, str(answer) if answer else None)
    return BankQuestion(str(entry), document_id, slug)


def load_in_scope(questions_dir: Path) -> list[BankQuestion]:
    bank: list[BankQuestion] = []
    for path in sorted(questions_dir.glob("*.y*ml")):
        if path.name == OUT_OF_SCOPE_FILE:
            continue
        data = read_yaml(path) or {}
        document_id = str(data.get("document") or path.stem)
        for slug, questions in (data.get("questions") or {}).items():
            bank.extend(_in_scope(q, document_id, str(slug)) for q in questions or [])
    return bank


def load_out_of_scope(questions_dir: Path) -> list[BankQuestion]:
    path = questions_dir / OUT_OF_SCOPE_FILE
    if not path.exists():
        return []
    data = read_yaml(path) or {}
    return [
        BankQuestion(str(q), "", str(category))
        for category, questions in (data.get("questions") or {}).items()
        for q in questions or []
    ]


def bank_files(questions_dir: Path) -> list[Path]:
    return sorted(questions_dir.glob("*.y*ml")) if questions_dir.exists() else []
