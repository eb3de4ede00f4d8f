"""Loaders for the formats program staff drop into `knowledge/documents/`.

Every loader returns a `Document` whose paragraphs are the document's own words:
the quoted passage must be verbatim, so loaders only split and never rewrite text
(whitespace inside a paragraph is collapsed, nothing else).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import frontmatter
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from pypdf import PdfReader

from knowledge.document import Block, Document

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
_WS = re.compile(r"\s+")
_SLUG = re.compile(r"[^a-z0-9]+")


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file."""


def slugify(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "section"


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _meta_str(meta: dict, key: str) -> str:
    value = meta.get(key)
    return "" if value is None else str(value)


def _make(path: Path, blocks: list[Block], meta: dict, fallback_title: str | None) -> Document:
    title = _meta_str(meta, "title")
    if not title:
        first = next((b for b in blocks if b.kind == "heading"), None)
        title = first.text if first else (fallback_title or path.stem.replace("-", " ").title())
    if blocks and blocks[0].kind == "heading" and blocks[0].text == title:
        blocks = blocks[1:]
    if not any(b.kind == "paragraph" for b in blocks):
        raise DocumentError(f"{path.name}: no text found")
    return Document(
        id=_meta_str(meta, "id") or slugify(path.stem),
        title=title,
        blocks=tuple(blocks),
        path=str(path),
        version=_meta_str(meta, "version"),
        date=_meta_str(meta, "date"),
        url=_meta_str(meta, "url") or None,
        meta={str(k): str(v) for k, v in meta.items()},
    )


def load_markdown(path: Path) -> Document:
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    tokens = MarkdownIt("commonmark").parse(post.content)
    blocks: list[Block] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            blocks.append(Block("heading", _clean(tokens[i + 1].content), int(token.tag[1])))
        elif token.type == "inline" and tokens[i - 1].type == "paragraph_open":
            text = _clean(token.content)
            if text:
                blocks.append(Block("paragraph", text))
    return _make(path, blocks, dict(post.metadata), None)


def _is_plain_heading(line: str) -> bool:
    """Short lines without end punctuation are headings, as in the program's guide."""
    return 0 < len(line) <= 90 and line[-1] not in ".?!:;,\"”’)" and len(line.split()) <= 14


def parse_plain_text(text: str) -> tuple[str | None, list[Block]]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    title: str | None = None
    blocks: list[Block] = []
    for n, para in enumerate(paragraphs):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        if n == 0 and len(lines) > 1 and _is_plain_heading(lines[0]):
            title, lines = lines[0], lines[1:]
            para = "\n".join(lines)
        if len(lines) == 1 and _is_plain_heading(lines[0]):
            if title is None and not blocks:
                title = lines[0]
            else:
                blocks.append(Block("heading", lines[0], 2))
        else:
            blocks.append(Block("paragraph", _clean(para)))
    return title, blocks


def load_text(path: Path) -> Document:
    title, blocks = parse_plain_text(path.read_text(encoding="utf-8"))
    return _make(path, blocks, {"title": title} if title else {}, None)


def load_html(path: Path) -> Document:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "header", "noscript"]):
        tag.decompose()
    meta: dict[str, str] = {}
    if soup.title and soup.title.string:
        meta["title"] = _clean(soup.title.string)
    canonical = soup.find("link", rel="canonical")
    if canonical and canonical.get("href"):
        meta["url"] = str(canonical["href"])
    blocks: list[Block] = []
    body = soup.body or soup
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote"]):
        if el.name in {"p", "li", "blockquote"} and el.find_parent(["p", "li", "blockquote"]):
            continue
        text = _clean(el.get_text(" "))
        if not text:
            continue
        if el.name.startswith("h"):
            blocks.append(Block("heading", text, int(el.name[1])))
        else:
            blocks.append(Block("paragraph", text))
    return _make(path, blocks, meta, None)


def _separate_pdf_headings(page_text: str) -> str:
    """PDF text has no blank lines between blocks: a heading-like line stands alone,
    and the lines between headings are one paragraph's wrapped lines."""
    out: list[str] = []
    for line in page_text.splitlines():
        stripped = line.strip()
        if stripped and _is_plain_heading(stripped) and stripped[0].isupper():
            out.extend(["", stripped, ""])
        else:
            out.append(stripped)
    return "\n".join(out)


def load_pdf(path: Path) -> Document:
    try:
        reader = PdfReader(str(path))
        text = "\n\n".join(_separate_pdf_headings(page.extract_text() or "") for page in reader.pages)
    except Exception as exc:  # pypdf raises many types for damaged files
        raise DocumentError(f"{path.name}: not a readable PDF ({exc})") from exc
    title, blocks = parse_plain_text(text)
    info_title = (reader.metadata.title if reader.metadata else None) or title
    return _make(path, blocks, {"title": info_title} if info_title else {}, None)


LOADERS: dict[str, Callable[[Path], Document]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}


def load_document(path: Path) -> Document:
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(f"{path.name}: unsupported format (use {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        return loader(path)
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path.name}: not UTF-8 text") from exc


def document_paths(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )


def load_documents(directory: Path) -> list[Document]:
    docs = [load_document(p) for p in document_paths(directory)]
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.id in seen:
            raise DocumentError(f"{doc.path}: document id {doc.id!r} is also used by {seen[doc.id]}")
        seen[doc.id] = doc.path
    return docs
