"""Heading-aware chunking: a chunk never crosses a section and quotes the document verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

from knowledge.document import Document
from knowledge.loaders import slugify

CHUNKER_VERSION = "3"
MAX_WORDS = 170
MIN_WORDS = 25


@dataclass(frozen=True)
class Chunk:
    id: str
    document_id: str
    document_title: str
    heading_trail: tuple[str, ...]
    position: int
    text: str
    sentences: tuple[str, ...]
    url: str | None = None

    @property
    def section(self) -> str:
        return self.heading_trail[-1] if self.heading_trail else ""

    @property
    def section_slug(self) -> str:
        return slugify(self.section) if self.section else "introduction"

    @property
    def embed_text(self) -> str:
        """Title and headings help retrieval find the section; they never enter the quote.

        The title goes on every chunk, so a question that names the document's
        topic ("… for a CMO?") matches all chunks equally on that part.
        """
        trail = " › ".join((self.document_title, *self.heading_trail))
        return f"{trail}: {self.text}"

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "document_id": self.document_id,
            "document_title": self.document_title,
            "heading_trail": list(self.heading_trail),
            "position": self.position,
            "text": self.text,
            "sentences": list(self.sentences),
            "url": self.url,
        }

    @classmethod
    def from_json(cls, data: dict) -> Chunk:
        return cls(
            id=data["id"],
            document_id=data["document_id"],
            document_title=data["document_title"],
            heading_trail=tuple(data["heading_trail"]),
            position=int(data["position"]),
            text=data["text"],
            sentences=tuple(data["sentences"]),
            url=data.get("url"),
        )


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]


def _pieces(paragraph: str) -> list[tuple[str, list[str]]]:
    """A long paragraph is cut between sentences into pieces of at most MAX_WORDS."""
    sentences = split_sentences(paragraph)
    if len(paragraph.split()) <= MAX_WORDS:
        return [(paragraph, sentences)]
    pieces: list[tuple[str, list[str]]] = []
    current: list[str] = []
    for sentence in sentences:
        if current and len(" ".join(current + [sentence]).split()) > MAX_WORDS:
            pieces.append((" ".join(current), current))
            current = []
        current.append(sentence)
    if current:
        pieces.append((" ".join(current), current))
    return pieces


def chunk_document(doc: Document, start_position: int = 0) -> list[Chunk]:
    chunks: list[Chunk] = []
    trail: list[tuple[int, str]] = []
    pending: list[tuple[str, list[str]]] = []
    per_section: dict[str, int] = {}

    def flush() -> None:
        if not pending:
            return
        text = "\n\n".join(t for t, _ in pending)
        sentences = tuple(s for _, ss in pending for s in ss)
        headings = tuple(h for _, h in trail)
        slug = slugify(headings[-1]) if headings else "introduction"
        n = per_section.get(slug, 0)
        per_section[slug] = n + 1
        chunks.append(
            Chunk(
                id=f"{doc.id}#{slug}-{n + 1}",
                document_id=doc.id,
                document_title=doc.title,
                heading_trail=headings,
                position=start_position + len(chunks),
                text=text,
                sentences=sentences,
                url=doc.url,
            )
        )
        pending.clear()

    for block in doc.blocks:
        if block.kind == "heading":
            flush()
            while trail and trail[-1][0] >= block.level:
                trail.pop()
            trail.append((block.level, block.text))
            continue
        for piece in _pieces(block.text):
            words = len(piece[0].split())
            if pending and len(" ".join(t for t, _ in pending).split()) >= MIN_WORDS:
                flush()
            elif pending and len(" ".join(t for t, _ in pending).split()) + words > MAX_WORDS:
                flush()
            pending.append(piece)
    flush()
    return chunks


def chunk_documents(docs: list[Document]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for doc in docs:
        chunks.extend(chunk_document(doc, start_position=len(chunks)))
    return chunks


_LEANS_BACK = re.compile(
    r"^(?:(?:Additionally|Also|Furthermore|Moreover|However|Likewise|Similarly|Consequently|Therefore|Thus|Hence|"
    r"Nevertheless|Nonetheless|Conversely|Instead|Otherwise|Besides|In addition|As a result|In contrast|By contrast|"
    r"On the other hand|For example|For instance|In turn)\b"
    r"|(?:This|These|It|They)\s+(?:is|are|was|were|includes?|involves?|requires?|means?|must|can|may|also)\b)"
)
"""How a sentence that needs the one before it opens: a connective, or a pronoun doing the verb."""


def leans_back(sentence: str) -> bool:
    """Whether a sentence reads as broken quoted alone ("Additionally, the CPE …", "This involves …")."""
    return bool(_LEANS_BACK.match(sentence))


_ONLY_ADDS = re.compile(r"^(?:Additionally|Also|Furthermore|Moreover|In addition|Besides|Likewise|Similarly)\b")


def only_adds(sentence: str) -> bool:
    """Whether a sentence leans back only by adding to what came before ("Additionally, the CPE …"): its
    meaning is its own, unlike "This involves …" or "However, …", which need the sentence they point to."""
    return bool(_ONLY_ADDS.match(sentence))
