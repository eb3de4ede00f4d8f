"""The program team's replies, back into the guide: `knowledge/documents/program-team-answers.md`.

Nothing is published unless a person chooses it (the staff post's "Add to the guide", or
`guidebot handoffs publish <id>`). Each published hand-off is one `## <question>` section, its title the
question as the staff worded it, its paragraphs the team's replies verbatim, closed by the date they
were published; a second publish of the same hand-off replaces its section. The question is also added
to the document's question bank (`knowledge/questions/program-team-answers.yaml`), so the next
`guidebot index` recognises questions like it as answered by the guide, with this document as source.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import yaml

from bot.handoff.model import Handoff, HandoffError
from knowledge.document import write_atomically
from knowledge.loaders import slugify

DOCUMENT_ID = "program-team-answers"
DOCUMENT_TITLE = "Answers from the program team"
INTRO = (
    "Questions members asked that the guide did not answer, with the program team's replies, "
    "added to the guide by the team."
)
MAX_TITLE_CHARS = 200
_SECTION = re.compile(r"<!-- handoff:(?P<id>[\w-]+) -->\n.*?(?=<!-- handoff:|\Z)", re.DOTALL)
_SPACES = re.compile(r"\s+")


def document_path(documents_dir: Path) -> Path:
    return documents_dir / f"{DOCUMENT_ID}.md"


def bank_path(knowledge_dir: Path) -> Path:
    return knowledge_dir / "questions" / f"{DOCUMENT_ID}.yaml"


def clean_title(title: str) -> str:
    """One line, no Markdown heading marks or comment markers, at most `MAX_TITLE_CHARS`."""
    text = _SPACES.sub(" ", title.replace("<!--", "").replace("-->", "")).strip().lstrip("#").strip()
    return text[:MAX_TITLE_CHARS]


def _paragraphs(text: str) -> list[str]:
    """A reply's paragraphs, each on one line (the loader collapses a paragraph's whitespace anyway)."""
    return [_SPACES.sub(" ", part).strip() for part in re.split(r"\n\s*\n", text) if part.strip()]


def section_markdown(handoff: Handoff, title: str, day: date) -> str:
    body = [p for reply in handoff.replies for p in _paragraphs(reply.text)]
    lines = [f"<!-- handoff:{handoff.id} -->", "", f"## {title}", ""]
    for paragraph in body:
        lines += [paragraph, ""]
    lines += [f"Answered by the program team on {day:%d %B %Y}.", "", ""]
    return "\n".join(lines)


def _header(day: date) -> str:
    return f'---\nid: {DOCUMENT_ID}\ntitle: "{DOCUMENT_TITLE}"\nversion: 1\ndate: {day.isoformat()}\n---\n\n# {DOCUMENT_TITLE}\n\n{INTRO}\n\n'


def write_document(documents_dir: Path, handoff: Handoff, title: str, day: date) -> Path:
    """Add (or replace) `handoff`'s section in the document; return the document's path."""
    path = document_path(documents_dir)
    sections = {m.group("id"): m.group(0) for m in _SECTION.finditer(path.read_text(encoding="utf-8"))} if path.exists() else {}
    sections[handoff.id] = section_markdown(handoff, title, day)
    write_atomically(path, (_header(day) + "".join(sections.values()).rstrip("\n") + "\n").encode("utf-8"))
    return path


def write_bank(knowledge_dir: Path, handoff: Handoff, title: str) -> Path:
    """File `title` as a question the document's section answers (`knowledge.bank` reads it at index time)."""
    path = bank_path(knowledge_dir)
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    questions = data.get("questions") or {}
    slug = slugify(title)
    asked = [q for q in questions.get(slug) or [] if q != title]
    questions[slug] = [title, *asked]
    header = "# Questions the program team's published answers settle, by section slug (written by `guidebot handoffs publish`).\n"
    body = yaml.safe_dump({"document": DOCUMENT_ID, "questions": questions}, allow_unicode=True, sort_keys=False, width=200)
    write_atomically(path, (header + body).encode("utf-8"))
    return path


def publish_handoff(knowledge_dir: Path, documents_dir: Path, handoff: Handoff, title: str | None, day: date) -> tuple[Path, str]:
    """Write `handoff`'s replies into the guide under `title` (default: the member's question as stored, which
    is redacted); return the document's path and the title used. HandoffError when there is no reply yet."""
    if not handoff.replies:
        raise HandoffError("no_reply", f"hand-off {handoff.id} has no reply from the program team to publish yet")
    chosen = clean_title(title or handoff.published_title or handoff.question)
    if not chosen:
        raise HandoffError("no_title", "a published answer needs a question as its title: pass --title")
    path = write_document(documents_dir, handoff, chosen, day)
    write_bank(knowledge_dir, handoff, chosen)
    return path, chosen
