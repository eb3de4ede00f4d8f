"""Links from a quoted passage back to the page that holds it (`/docs/<document>#<section>`)."""

from __future__ import annotations

from urllib.parse import quote

from bot.answer import Source


def doc_path(source: Source, chunk_id: str | None = None) -> str:
    """Server-relative path of a section; with a chunk id the page highlights that passage."""
    query = f"?chunk={quote(chunk_id, safe='')}" if chunk_id else ""
    return f"/docs/{quote(source.document_id, safe='')}{query}#{quote(source.section_slug, safe='')}"


def source_link(public_url: str | None, source: Source, chunk_id: str | None = None) -> str | None:
    """Absolute link for Slack and Teams, or None when no public URL is configured."""
    if not public_url:
        return None
    return public_url.rstrip("/") + doc_path(source, chunk_id)
