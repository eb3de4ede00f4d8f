"""The guide's documents as readable pages: `/docs/<document>#<section>`, passage highlighted.

A page is built from the live index's chunks, so every chunk id a quoted
passage carries has its place on the page, and a page always matches the
answers of the index that served them. Rendering is Jinja2 with autoescaping:
document text is never trusted as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from knowledge.chunking import Chunk
from knowledge.loaders import slugify

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
MAX_HEADING_LEVEL = 6


@dataclass(frozen=True)
class Heading:
    text: str
    level: int
    anchor: str | None


@dataclass(frozen=True)
class Block:
    """One item of a page, in reading order: a heading or a chunk's paragraphs."""

    heading: Heading | None = None
    chunk_id: str = ""
    anchor: str = ""
    paragraphs: tuple[str, ...] = ()
    section: str = ""


@dataclass
class DocumentPage:
    document_id: str
    title: str
    url: str | None
    blocks: list[Block] = field(default_factory=list)
    toc: list[Heading] = field(default_factory=list)

    def block_for(self, chunk_id: str | None) -> Block | None:
        if not chunk_id:
            return None
        return next((b for b in self.blocks if b.chunk_id == chunk_id), None)


def safe_url(url: str | None) -> str | None:
    """A document's own url, shown only when it is a plain web link (never `javascript:`)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def build_pages(chunks: list[Chunk]) -> dict[str, DocumentPage]:
    """Group chunks into pages; a heading appears where the chunks' heading trail changes.

    A section's anchor is the slug links use (`Source.section_slug`); chunks
    before any heading sit under `introduction`. When two sections share a
    name, the first keeps the anchor.
    """
    pages: dict[str, DocumentPage] = {}
    trails: dict[str, tuple[str, ...]] = {}
    anchors: dict[str, set[str]] = {}
    for chunk in sorted(chunks, key=lambda c: c.position):
        page = pages.get(chunk.document_id)
        if page is None:
            page = pages[chunk.document_id] = DocumentPage(chunk.document_id, chunk.document_title, safe_url(chunk.url))
            trails[chunk.document_id] = ()
            anchors[chunk.document_id] = set()
        used = anchors[chunk.document_id]
        previous = trails[chunk.document_id]
        trail = chunk.heading_trail
        common = 0
        while common < min(len(previous), len(trail)) and previous[common] == trail[common]:
            common += 1
        for depth in range(common, len(trail)):
            slug = slugify(trail[depth])
            anchor = None if slug in used else slug
            used.add(slug)
            heading = Heading(trail[depth], min(depth + 1, MAX_HEADING_LEVEL), anchor)
            page.blocks.append(Block(heading=heading))
            if anchor:
                page.toc.append(heading)
        trails[chunk.document_id] = trail
        anchor = f"passage-{len(page.blocks)}"
        if not trail and "introduction" not in used:
            used.add("introduction")
            anchor = "introduction"
        paragraphs = tuple(p.strip() for p in chunk.text.split("\n\n") if p.strip())
        page.blocks.append(Block(chunk_id=chunk.id, anchor=anchor, paragraphs=paragraphs, section=chunk.section))
    return pages


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENV = _environment()


def render_document(page: DocumentPage, chunk_id: str | None = None) -> str:
    highlighted = page.block_for(chunk_id)
    return _ENV.get_template("document.html").render(
        page=page,
        highlighted=highlighted,
        title_is_heading=bool(page.blocks and page.blocks[0].heading and page.blocks[0].heading.text == page.title),
    )


def render_document_list(pages: list[DocumentPage]) -> str:
    return _ENV.get_template("documents.html").render(pages=pages)


def render_not_found(document_id: str) -> str:
    return _ENV.get_template("not_found.html").render(document_id=document_id)
