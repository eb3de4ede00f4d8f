"""The Block Kit pieces every Slack reply is built from, and Slack's limits on them.

Shared by the answer and summary renderers (`adapters.slack.render`) and the
quotes of passages (`adapters.slack.passages`): text objects, sections and
context blocks that clip within Slack's limits without cutting an entity or a
link in half, the numbered sources with the `[n]` that cites them in each
style, and the final `{"text", "blocks"}` payload. Pure functions, like the
renderers that use them.

Every `mrkdwn` / `plain_text` string arrives here already escaped or goes
through `escape`; `rich_text` `text` elements stay verbatim (see `render`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adapters.slack.text import escape
from bot.answer import Source
from bot.links import source_link

Style = Literal["native", "links", "basic", "text"]
STYLES: tuple[Style, ...] = ("native", "links", "basic", "text")

# Slack's limits (Block Kit reference).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_MARKDOWN_TEXT = 12000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BLOCK_ID = 255

# Our own budgets, inside Slack's.
MAX_LABEL_CHARS = 200
MAX_FALLBACK_CHARS = 3000
MAX_SNIPPET_CHARS = 200

MORE_IN_GUIDE = "more in the guide"

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Block = dict[str, Any]
Message = dict[str, Any]


def clean(text: str) -> str:
    """`text` without control characters, which Slack refuses or shows as boxes."""
    return _UNPRINTABLE.sub("", text or "")


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` within `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ellipsis))
    cut = last_space(text, 0, room)
    if cut <= room // 2:
        cut = room  # one enormous word: cut it rather than send nothing
    return text[:cut].rstrip() + ellipsis


def last_space(text: str, lo: int, hi: int) -> int:
    """Index of the last whitespace in text[lo:hi+1], or lo when there is none."""
    for i in range(min(hi, len(text) - 1), lo, -1):
        if text[i].isspace():
            return i
    return lo


def clip_escaped(escaped: str, limit: int) -> str:
    """Clip already-escaped mrkdwn without cutting an entity (`&amp;`) or a `<…|…>` link in half."""
    if len(escaped) <= limit:
        return escaped
    body = clip(escaped, limit - 1, "")
    amp = body.rfind("&")
    if amp >= 0 and ";" not in body[amp:]:
        body = body[:amp]
    lt = body.rfind("<")
    if lt >= 0 and ">" not in body[lt:]:
        body = body[:lt]
    return body.rstrip() + "…"


def plain(text: str, limit: int, fallback: str = "…") -> dict[str, Any]:
    """A `plain_text` object of raw text: escaped, clipped, never empty (Slack refuses an empty one)."""
    shown = clip_escaped(escape(clean(text).strip()), limit)
    return {"type": "plain_text", "text": shown if shown.strip() else fallback, "emoji": True}


def mrkdwn(escaped: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": escaped}


def mrkdwn_link(url: str | None, label: str) -> str:
    """`<url|label>` with the label escaped (and free of `|`), or the escaped label alone."""
    shown = escape(label)
    if not url:
        return shown
    return f"<{url}|{shown.replace('|', '¦')}>"


def section(escaped: str, block_id: str | None = None) -> Block:
    """A `section` of escaped mrkdwn, clipped to Slack's limit and never empty."""
    shown = clip_escaped(escaped.strip(), MAX_SECTION_TEXT)
    block: Block = {"type": "section", "text": mrkdwn(shown if shown.strip() else "…")}
    if block_id:
        block["block_id"] = block_id
    return block


def context(texts: Iterable[str], block_id: str) -> Block | None:
    """A `context` block of escaped mrkdwn texts; None when none has any text (Slack refuses it empty)."""
    elements = [mrkdwn(clip_escaped(t.strip(), MAX_SECTION_TEXT)) for t in texts if t.strip()][:MAX_CONTEXT_ELEMENTS]
    if not elements:
        return None
    return {"type": "context", "block_id": block_id, "elements": elements}


def text_element(text: str, bold: bool = False) -> dict[str, Any]:
    """A `rich_text` `text` element: literal text in Slack, so it is never escaped."""
    element: dict[str, Any] = {"type": "text", "text": text}
    if bold:
        element["style"] = {"bold": True}
    return element


def payload(text: str, blocks: list[Block], style: Style) -> Message:
    """The payload: the escaped `text` fallback within Slack's limit, and the blocks unless `style` is text only."""
    text = clip_escaped(text.strip(), MAX_FALLBACK_CHARS)
    text = text if text.strip() else "guidebot"
    if style == "text":
        return {"text": text}
    return {"text": text, "blocks": blocks[:MAX_BLOCKS]}


# ---------------------------------------------------------------- numbered sources


@dataclass(frozen=True)
class Numbered:
    """A source as a message cites it: its number `[n]` and the link to its passage, if any."""

    number: int
    source: Source
    link: str | None


def number_sources(sources: Iterable[Source], public_url: str | None, chunk_ids: dict[tuple[str, str], str | None]) -> dict[tuple[str, str], Numbered]:
    """Each distinct (document, section) numbered from 1 in the order first met."""
    numbered: dict[tuple[str, str], Numbered] = {}
    for source in sources:
        key = (source.document_id, source.section)
        if key not in numbered:
            link = source_link(public_url, source, chunk_ids.get(key))
            numbered[key] = Numbered(len(numbered) + 1, source, link)
    return numbered


def reference(numbered: Numbered, style: Style, snippet: str) -> dict[str, Any]:
    """The `[n]` that closes a quote: a citation, a link, or bold text without a public URL."""
    label = f"[{numbered.number}]"
    if numbered.link and style == "native":
        return {
            "type": "citation",
            "url": numbered.link,
            "text": label,
            "index": numbered.number,
            "details": {
                "citation_type": "web",
                "display_name": clip(clean(numbered.source.document_title), 80) or "guide",
                "title": clip(clean(numbered.source.label), MAX_LABEL_CHARS) or label,
                "snippet": clip(clean(snippet), MAX_SNIPPET_CHARS),
            },
        }
    if numbered.link:
        return {"type": "link", "url": numbered.link, "text": label}
    return text_element(label, bold=True)


def more_in_guide(numbered: Numbered | None) -> list[dict[str, Any]]:
    """The "(more in the guide)" after a trimmed quote: a link to the whole passage when there is one."""
    if numbered is not None and numbered.link:
        return [text_element(" ("), {"type": "link", "url": numbered.link, "text": MORE_IN_GUIDE}, text_element(")")]
    return [text_element(f" ({MORE_IN_GUIDE})")]


def sources_context(numbered: Sequence[Numbered]) -> Block | None:
    """The `context` block naming each numbered source (`[1] Guide › Section`), with the original's link."""
    texts = []
    for n in numbered[:MAX_CONTEXT_ELEMENTS]:
        label = clip(clean(n.source.label), MAX_LABEL_CHARS)
        text = mrkdwn_link(n.link, f"[{n.number}] {label}")
        if n.source.url and n.source.url.startswith(("https://", "http://")) and "|" not in n.source.url and ">" not in n.source.url:
            text += f" · <{n.source.url}|original>"
        texts.append(text)
    return context(texts, "guide_sources")
