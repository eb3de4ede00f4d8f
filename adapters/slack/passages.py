"""The passages of an answer as quotes: which part of each to show, and the blocks that show it.

Under the lead, each passage is quoted compactly: its best sentence in bold
with at most one neighbouring sentence (about `COMPACT_QUOTE_CHARS`), chosen so
that the quote adds to what the lead already said, with "…" where it was
trimmed. "Show the passages" quotes each passage whole (within
`MAX_QUOTE_CHARS`). Either way all the quotes of one message stay within
`MAX_QUOTED_CHARS`, and a passage that no longer fits is linked instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import (
    MORE_IN_GUIDE,
    Block,
    Numbered,
    Style,
    clean,
    last_space,
    more_in_guide,
    mrkdwn_link,
    number_sources,
    reference,
    section,
    text_element,
)
from adapters.slack.text import escape
from bot.answer import Answer, Passage

MAX_QUOTE_CHARS = 2800
"""Characters of one quoted passage."""
MAX_QUOTED_CHARS = 9000
"""Characters quoted in one message, all passages together (well under a `markdown` block's 12,000)."""
MIN_QUOTE_CHARS = 200
"""Below this much room left, a further passage is linked instead of quoted."""
COMPACT_QUOTE_CHARS = 350
"""Characters of a passage quoted under the lead: its best sentence and at most one neighbour."""
MAX_PASSAGES = 10

_WHITESPACE = re.compile(r"\s")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")


def _first_space_after(text: str, lo: int, hi: int) -> int:
    match = _WHITESPACE.search(text, lo, hi)
    return match.end() if match else hi


def _window(text: str, start: int, end: int, budget: int) -> tuple[int, int]:
    """The part of `text` to quote within `budget` characters, keeping [start, end) in it when it fits."""
    if len(text) <= budget:
        return 0, len(text)
    lo = 0
    if start >= 0 and end > budget:
        # The best sentence lies beyond the first `budget` characters: start a little before it.
        lo = max(0, start - budget // 5)
        lo = _first_space_after(text, lo, start) if lo > 0 else 0
    hi = min(len(text), lo + budget)
    if hi < len(text):
        cut = last_space(text, lo, hi)
        hi = cut if cut > lo + budget // 2 else hi
    return lo, hi


def _neighbours(text: str, start: int, end: int, budget: int, said: Sequence[str] = ()) -> tuple[int, int]:
    """[start, end) widened by one neighbouring sentence that fits in `budget`: the next one, else the
    one before, and first a neighbour the lead has not `said` already (so the quote adds context)."""
    candidates: list[tuple[int, int]] = []
    after = _SENTENCE_END.search(text, end)
    if after is not None and after.start() == end:  # the best sentence ends a sentence: the next one
        nxt = _SENTENCE_END.search(text, after.end())
        candidates.append((start, nxt.start() if nxt else len(text.rstrip())))
    lo = 0
    for match in _SENTENCE_END.finditer(text, 0, start):
        if match.end() < start:
            lo = match.end()
    if lo < start and text[lo:start].strip():
        candidates.append((lo, end))
    fitting = [(a, b) for a, b in candidates if b - a <= budget]
    fitting.sort(key=lambda span: _already_said(text[span[0] : start] + text[end : span[1]], said))
    return fitting[0] if fitting else (start, end)


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, lo = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[lo : match.start()].strip():
            spans.append((lo, match.start()))
        lo = match.end()
    if text[lo:].strip():
        spans.append((lo, len(text.rstrip())))
    return spans


def _all_said(excerpt: str, said: Sequence[str]) -> bool:
    return all(_already_said(excerpt[a:b], said) for a, b in _sentence_spans(excerpt))


def _unsaid(text: str, start: int, end: int, budget: int, said: Sequence[str]) -> tuple[int, int] | None:
    """When the best sentence and its neighbour are the lead again, the nearest sentence the lead has not said
    (after the best one first) that fits, so the quote adds context; None when there is none."""
    spans = _sentence_spans(text)
    after = [s for s in spans if s[0] >= end]
    before = [s for s in reversed(spans) if s[1] <= max(start, 0)]
    for a, b in after + before:
        if not _already_said(text[a:b], said) and b - a <= budget:
            return a, b
    return None


def _already_said(neighbour: str, said: Sequence[str]) -> bool:
    neighbour = " ".join(neighbour.split())
    return any(neighbour in s or s in neighbour for s in said) if neighbour else False


def _excerpt(text: str, start: int, end: int, budget: int, said: Sequence[str] = ()) -> tuple[int, int]:
    """The part of a passage quoted under the lead: its best sentence [start, end) and at most one neighbour."""
    if len(text) <= budget:
        return 0, len(text)
    if start < 0:
        first = _SENTENCE_END.search(text)
        if first is not None and 0 < first.start() <= budget:
            return _neighbours(text, 0, first.start(), budget, said)
        return _window(text, -1, -1, budget)
    if end - start > budget:
        return _window(text, start, end, budget)
    return _neighbours(text, start, end, budget, said)


def _quote_elements(passage: Passage, budget: int, compact: bool = False, said: Sequence[str] = ()) -> tuple[list[dict[str, Any]], bool]:
    """The passage (or the part of it that fits) as rich-text elements, best sentence in bold.

    `compact`: only the best sentence and at most one neighbouring sentence, within `budget`,
    preferring a neighbour the lead has not `said`."""
    text = clean(passage.text)
    best = clean(passage.best_sentence).strip()
    start = text.find(best) if best else -1
    end = start + len(best) if start >= 0 else -1
    lo, hi = _excerpt(text, start, end, budget, said) if compact else _window(text, start, end, budget)
    if compact and said and _all_said(text[lo:hi], said):
        lo, hi = _unsaid(text, start, end, budget, said) or (lo, hi)
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    trimmed = bool(text[:lo].strip()) or bool(text[hi:].strip())
    pieces: list[tuple[str, bool]] = []
    if start >= 0 and start < hi and end > lo:
        pieces = [(text[lo:max(lo, start)], False), (text[max(lo, start):min(hi, end)], True), (text[min(hi, end):hi], False)]
    else:
        pieces = [(text[lo:hi], False)]
    if text[:lo].strip():
        pieces.insert(0, ("…", False))
    if text[hi:].strip():
        pieces.append(("…", False))
    return [text_element(t, bold) for t, bold in pieces if t], trimmed


@dataclass(frozen=True)
class Quoted:
    """The passages of an answer worth rendering, with their source numbers."""

    passages: tuple[Passage, ...]
    numbers: tuple[Numbered, ...]
    """`numbers[i]` is the source of `passages[i]`."""
    index: dict[int, int]
    """Position in `answer.passages` → position in `passages` (empty passages are left out)."""


def passages_of(answer: Answer, public_url: str | None) -> Quoted:
    """The answer's passages that hold any text, each with its numbered source."""
    kept = [(i, p) for i, p in enumerate(answer.passages) if clean(p.text).strip()]
    chunk_ids: dict[tuple[str, str], str | None] = {}
    for _, p in kept:
        chunk_ids.setdefault((p.source.document_id, p.source.section), p.chunk_id)
    numbered = number_sources((p.source for _, p in kept), public_url, chunk_ids)
    return Quoted(
        tuple(p for _, p in kept),
        tuple(numbered[(p.source.document_id, p.source.section)] for _, p in kept),
        {original: position for position, (original, _) in enumerate(kept)},
    )


def quote_blocks(quoted: Quoted, style: Style, *, compact: bool, said: Sequence[str] = ()) -> tuple[list[Block], list[Numbered], bool]:
    """One quote block per passage: compact (under the lead) or whole (`passages_message`).

    Returns the blocks, the sources shown in order, and whether a passage was trimmed or left out."""
    blocks: list[Block] = []
    room = MAX_QUOTED_CHARS
    shown: list[Numbered] = []
    left_out: Numbered | None = None
    trimmed_any = False
    for i, (passage, n) in enumerate(zip(quoted.passages[:MAX_PASSAGES], quoted.numbers, strict=False)):
        budget = min(COMPACT_QUOTE_CHARS if compact else MAX_QUOTE_CHARS, room)
        if budget < (COMPACT_QUOTE_CHARS if compact else MIN_QUOTE_CHARS):
            left_out = left_out or n
            continue
        elements, trimmed = _quote_elements(passage, budget, compact=compact, said=said)
        room -= sum(len(e["text"]) for e in elements)
        elements += [text_element(" "), reference(n, style, passage.best_sentence)]
        if trimmed and n.link:
            elements += more_in_guide(n)
        trimmed_any = trimmed_any or trimmed
        blocks.append({"type": "rich_text", "block_id": f"guide_quote_{i + 1}", "elements": [{"type": "rich_text_quote", "elements": elements}]})
        if n not in shown:
            shown.append(n)
    if len(quoted.passages) > MAX_PASSAGES:
        left_out = left_out or quoted.numbers[MAX_PASSAGES]
    if left_out is not None:
        more = mrkdwn_link(left_out.link, f"More passages: {MORE_IN_GUIDE}") if left_out.link else escape(f"More passages are {MORE_IN_GUIDE}: {left_out.source.label}")
        blocks.append(section(more, "guide_more"))
        if left_out not in shown:
            shown.append(left_out)
    return blocks, shown, trimmed_any or left_out is not None
