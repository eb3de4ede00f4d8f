"""The guide's documents as the Guide page shows and changes them: versions, sections, one section's
text, an uploaded Markdown file, and the versions kept before each publish.

A section is what the chunker calls one (`knowledge.chunking`): the text under a heading down to the
next heading of any level, the text before the first heading being the "introduction". Its label
(`Document title › Heading`) is the one the question log keeps for every passage quoted, so counts
join on it. Editing a section rewrites only that section's lines of the Markdown source (front matter,
other sections and their formatting stay byte for byte), and bumps the front matter's `version` and
`date`. Kept versions are plain files, `<data_dir>/guide-history/<document id>/<UTC time>-<hash>.<ext>`.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from markdown_it import MarkdownIt

from knowledge.document import Document, write_atomically
from knowledge.loaders import DocumentError, load_document, slugify

MAX_UPLOAD_BYTES = 512 * 1024
"""The largest Markdown file the page accepts (the guide's one document is under 8 KB)."""
MARKDOWN_SUFFIXES = (".md", ".markdown")
MARKDOWN_TYPES = ("text/markdown", "text/x-markdown", "text/plain", "application/octet-stream")
"""What browsers send as the type of a `.md` file (some have no type for it and say octet-stream)."""
HISTORY_DIR = "guide-history"
INTRODUCTION = "introduction"

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\r?\n---[ \t]*\r?\n", re.DOTALL)
_VERSION = re.compile(r"^(version:[ \t]*)(\d+)[ \t]*$", re.MULTILINE)
_DATE = re.compile(r"^(date:[ \t]*)(\S+)[ \t]*$", re.MULTILINE)
_KEPT = re.compile(r"^(\d{8}T\d{6}\d*Z)-([0-9a-f]{12})(\.[a-z]+)$")


class GuideChangeError(ValueError):
    """A change the page cannot make: the message says why, in words for staff."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass(frozen=True)
class Section:
    slug: str
    heading: str
    level: int
    label: str
    """`Document title › Heading`, as the question log names a quoted passage."""


@dataclass(frozen=True)
class GuideDocument:
    id: str
    title: str
    path: Path
    version: str
    date: str
    hash: str
    sections: tuple[Section, ...]

    @property
    def editable(self) -> bool:
        return self.path.suffix.lower() in MARKDOWN_SUFFIXES


def sections_of(doc: Document) -> tuple[Section, ...]:
    """The document's sections in order; the introduction only when text comes before the first heading."""
    found: list[Section] = []
    if doc.blocks and doc.blocks[0].kind == "paragraph":
        found.append(Section(INTRODUCTION, "", 0, doc.title))
    seen: set[str] = set()
    for block in doc.blocks:
        if block.kind == "heading" and slugify(block.text) not in seen:
            seen.add(slugify(block.text))
            found.append(Section(slugify(block.text), block.text, block.level, f"{doc.title} › {block.text}"))
    return tuple(found)


def describe(path: Path) -> GuideDocument:
    doc = load_document(path)
    data = path.read_bytes()
    date = doc.date or datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).date().isoformat()
    return GuideDocument(doc.id, doc.title, path, doc.version, date, content_hash(data), sections_of(doc))


# ---------------------------------------------------------------------------------------------
# One section of a Markdown source


def _split_front_matter(text: str) -> tuple[str, str]:
    match = _FRONT_MATTER.match(text)
    return (match.group(0), text[match.end() :]) if match else ("", text)


def _section_lines(body: str, title: str, slug: str) -> tuple[int, int]:
    """The [start, end) lines of `body` holding the text of section `slug` (its heading line excluded)."""
    tokens = MarkdownIt("commonmark").parse(body)
    headings: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            headings.append((token.map[0], token.map[1], " ".join(tokens[i + 1].content.split())))
    line_count = len(body.splitlines())
    intro_start = 0
    if headings and headings[0][2] == title:
        intro_start = headings[0][1]
        headings = headings[1:]
    if slug == INTRODUCTION:
        return intro_start, headings[0][0] if headings else line_count
    for n, (_start, end, text) in enumerate(headings):
        if slugify(text) == slug:
            return end, headings[n + 1][0] if n + 1 < len(headings) else line_count
    raise GuideChangeError(f"There is no section {slug!r} in this document.")


def section_text(source: str, title: str, slug: str) -> str:
    """The Markdown of one section, as the editor shows it."""
    _front, body = _split_front_matter(source)
    start, end = _section_lines(body, title, slug)
    return "\n".join(body.splitlines()[start:end]).strip("\n")


def bump_version(front: str, today: str) -> str:
    """The front matter with its whole-number `version` one higher and its `date` today."""
    front = _VERSION.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", front, count=1)
    return _DATE.sub(lambda m: f"{m.group(1)}{today}", front, count=1)


def replace_section(source: str, title: str, slug: str, text: str, today: str) -> str:
    """`source` with section `slug`'s text replaced by `text` (blank lines kept around it), version bumped."""
    front, body = _split_front_matter(source)
    start, end = _section_lines(body, title, slug)
    lines = body.splitlines()
    new = text.replace("\r\n", "\n").strip("\n")
    if re.search(r"^\s{0,3}#{1,6}\s", new, re.MULTILINE):
        raise GuideChangeError("A section's text cannot hold a heading: upload the whole document to add sections.")
    middle = ["", *new.split("\n"), ""] if new.strip() else [""]
    rebuilt = "\n".join(lines[:start] + middle + lines[end:]).rstrip("\n") + "\n"
    return bump_version(front, today) + rebuilt


def check_upload(name: str, content_type: str, data: bytes, document_id: str) -> str:
    """An uploaded file as the document's new Markdown text, or `GuideChangeError` saying what is wrong."""
    if Path(name).suffix.lower() not in MARKDOWN_SUFFIXES or content_type.split(";")[0].strip().lower() not in MARKDOWN_TYPES:
        raise GuideChangeError("Upload a Markdown file (.md).")
    if len(data) > MAX_UPLOAD_BYTES:
        raise GuideChangeError(f"The file is larger than {MAX_UPLOAD_BYTES // 1024} KB.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GuideChangeError("The file is not UTF-8 text.") from exc
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / f"{document_id}.md"
        probe.write_text(text, encoding="utf-8")
        try:
            doc = load_document(probe)
        except DocumentError as exc:
            raise GuideChangeError(f"The file cannot be read as a guide document: {exc}") from exc
    if doc.id != document_id:
        raise GuideChangeError(f"The file's front matter names document {doc.id!r}, not {document_id!r}.")
    return text


# ---------------------------------------------------------------------------------------------
# Writing a document, and the versions kept before each change


@dataclass(frozen=True)
class KeptVersion:
    document_id: str
    name: str
    saved_at: str
    hash: str


def keep_version(data_dir: Path, document_id: str, path: Path, now: datetime) -> KeptVersion:
    """Copy the document as it is now into the history before it is replaced."""
    data = path.read_bytes()
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{content_hash(data)}{path.suffix.lower()}"
    write_atomically(data_dir / HISTORY_DIR / slugify(document_id) / name, data)
    return KeptVersion(document_id, name, _saved_at(stamp), content_hash(data))


def _saved_at(stamp: str) -> str:
    return datetime.strptime(stamp[:15], "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def kept_versions(data_dir: Path, document_id: str) -> list[KeptVersion]:
    """The document's kept versions, newest first."""
    folder = data_dir / HISTORY_DIR / slugify(document_id)
    found = [(p.name, _KEPT.match(p.name)) for p in folder.glob("*") if p.is_file()] if folder.is_dir() else []
    return [KeptVersion(document_id, name, _saved_at(m.group(1)), m.group(2)) for name, m in sorted(found, reverse=True) if m]


def kept_path(data_dir: Path, document_id: str, name: str) -> Path:
    """The file of a kept version, by the name the page listed (anything else is refused)."""
    if not _KEPT.match(name) or not (path := data_dir / HISTORY_DIR / slugify(document_id) / name).is_file():
        raise GuideChangeError("There is no such kept version of this document.")
    return path
