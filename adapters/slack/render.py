"""Block Kit for the core's values: an `Answer` or a `Summary` in, a message payload out.

Pure functions: no I/O and no settings, only the value and plain parameters
(`public_url`, the `style` to render in). The payloads are raw dicts, because
slack_sdk has no model yet for the newest elements (`citation`,
`context_actions`, `feedback_buttons`); `tests/test_slack_render.py` checks
their shape against Slack's Block Kit reference.

Layout of an answer (answer first: members read the notification and the first
line, and little more):
- the **lead**, the one or two sentences of the guide that answer, each closed
  by its source number `[n]` (a `citation` element, a `link` element to the
  passage's page under `/docs/…?chunk=`, or bold text when no public URL is
  configured), as a `rich_text_section` on top; the message's `text` (the
  notification and the fallback) starts with the same sentences;
- one compact `rich_text` quote per passage: its best sentence in bold with at
  most one neighbouring sentence (about `COMPACT_QUOTE_CHARS`), "…" where it
  was trimmed, closed by `[n]` and, with a public URL, a "more in the guide"
  link to the whole passage;
- without a public URL, when a quote was trimmed, a "Show the passages" button
  (`PASSAGES_ACTION`) that answers the member privately with every passage in
  full (`passages_message`): one click to any passage either way;
- a `context` block naming each numbered source (`[1] Guide › Section`);
- a `context_actions` block with `feedback_buttons` whose values carry the
  answer id (`up:<id>`, `down:<id>`);
- for ephemeral slash-command replies, an `actions` block with "Share in channel".

`answer_chars` counts what a member sees of that message (the
`guidebot.message_size` entry point `guidebot eval` reports).

Escaping: every `mrkdwn` / `plain_text` string and the `text` fallback go
through `escape`, so `<!channel>`, `<!here>` and `<@U…>` typed by a member or
found in a document never ping anyone. `rich_text` `text` elements are literal
text in Slack (pings there only come from `broadcast` / `user` elements, which
these renderers never build), so quotes stay verbatim there: an escaped `&amp;`
would be shown to the reader as such.

Styles, most native first: when Slack refuses a payload (`invalid_blocks`),
the sender retries with the next style, so an answer is never lost to a
rendering detail:
- `native`: `citation` elements and `feedback_buttons`;
- `links`: `link` elements instead of citations;
- `basic`: links and plain 👍/👎 `button`s in an `actions` block;
- `text`: no blocks, only the `text` fallback with the sources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from adapters.slack.text import escape, unescape
from bot.answer import Answer, Passage, Reply, Source, Summary
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
MAX_QUOTE_CHARS = 2800
"""Characters of one quoted passage."""
MAX_QUOTED_CHARS = 9000
"""Characters quoted in one message, all passages together (well under a `markdown` block's 12,000)."""
MIN_QUOTE_CHARS = 200
"""Below this much room left, a further passage is linked instead of quoted."""
COMPACT_QUOTE_CHARS = 350
"""Characters of a passage quoted under the lead: its best sentence and at most one neighbour."""
MAX_LEAD_CHARS = 600
"""Characters of one lead sentence (the core keeps the whole lead within 450)."""
MAX_PASSAGES = 10
MAX_SUMMARY_POINTS = 30
MAX_LABEL_CHARS = 200
MAX_FALLBACK_CHARS = 3000
MAX_SNIPPET_CHARS = 200
MAX_SHARE_QUESTION_CHARS = 1500

FEEDBACK_ACTION = "guide_feedback"
"""`action_id` of the feedback control (plain buttons add `_up` / `_down`)."""
SHARE_ACTION = "guide_share"
PASSAGES_ACTION = "guide_passages"
"""`action_id` of "Show the passages": its value is a `share_value` (question and answer id)."""
SHOW_PASSAGES = "Show the passages"
FEEDBACK_NOTE_BLOCK = "guide_feedback_note"

FAILURE_TEXT = "I couldn't answer that just now. Please try again in a minute."
HELP_HINT = "Try `/guide help` to see what I can answer."
MORE_IN_GUIDE = "more in the guide"
THANKS = {"up": "Thanks, glad it helped.", "down": "Thanks, noted: this answer missed."}

_WHITESPACE = re.compile(r"\s")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_MRKDWN_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Block = dict[str, Any]
Message = dict[str, Any]


# ---------------------------------------------------------------- small pieces


def _clean(text: str) -> str:
    return _UNPRINTABLE.sub("", text or "")


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` within `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ellipsis))
    cut = _last_space(text, 0, room)
    if cut <= room // 2:
        cut = room  # one enormous word: cut it rather than send nothing
    return text[:cut].rstrip() + ellipsis


def _last_space(text: str, lo: int, hi: int) -> int:
    """Index of the last whitespace in text[lo:hi+1], or lo when there is none."""
    for i in range(min(hi, len(text) - 1), lo, -1):
        if text[i].isspace():
            return i
    return lo


def _first_space_after(text: str, lo: int, hi: int) -> int:
    match = _WHITESPACE.search(text, lo, hi)
    return match.end() if match else hi


def _plain(text: str, limit: int, fallback: str = "…") -> dict[str, Any]:
    shown = _clip_escaped(escape(_clean(text).strip()), limit)
    return {"type": "plain_text", "text": shown if shown.strip() else fallback, "emoji": True}


def _mrkdwn(escaped: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": escaped}


def _mrkdwn_link(url: str | None, label: str) -> str:
    """`<url|label>` with the label escaped (and free of `|`), or the escaped label alone."""
    shown = escape(label)
    if not url:
        return shown
    return f"<{url}|{shown.replace('|', '¦')}>"


def _section(escaped: str, block_id: str | None = None) -> Block:
    shown = _clip_escaped(escaped.strip(), MAX_SECTION_TEXT)
    block: Block = {"type": "section", "text": _mrkdwn(shown if shown.strip() else "…")}
    if block_id:
        block["block_id"] = block_id
    return block


def _clip_escaped(escaped: str, limit: int) -> str:
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


def _context(texts: Iterable[str], block_id: str) -> Block | None:
    elements = [_mrkdwn(_clip_escaped(t.strip(), MAX_SECTION_TEXT)) for t in texts if t.strip()][:MAX_CONTEXT_ELEMENTS]
    if not elements:
        return None
    return {"type": "context", "block_id": block_id, "elements": elements}


def _text_element(text: str, bold: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "text", "text": text}
    if bold:
        element["style"] = {"bold": True}
    return element


@dataclass(frozen=True)
class _Numbered:
    number: int
    source: Source
    link: str | None


def _number_sources(sources: Iterable[Source], public_url: str | None, chunk_ids: dict[tuple[str, str], str | None]) -> dict[tuple[str, str], _Numbered]:
    numbered: dict[tuple[str, str], _Numbered] = {}
    for source in sources:
        key = (source.document_id, source.section)
        if key not in numbered:
            link = source_link(public_url, source, chunk_ids.get(key))
            numbered[key] = _Numbered(len(numbered) + 1, source, link)
    return numbered


def _reference(numbered: _Numbered, style: Style, snippet: str) -> dict[str, Any]:
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
                "display_name": clip(_clean(numbered.source.document_title), 80) or "guide",
                "title": clip(_clean(numbered.source.label), MAX_LABEL_CHARS) or label,
                "snippet": clip(_clean(snippet), MAX_SNIPPET_CHARS),
            },
        }
    if numbered.link:
        return {"type": "link", "url": numbered.link, "text": label}
    return _text_element(label, bold=True)


def _more_in_guide(numbered: _Numbered | None) -> list[dict[str, Any]]:
    if numbered is not None and numbered.link:
        return [_text_element(" ("), {"type": "link", "url": numbered.link, "text": MORE_IN_GUIDE}, _text_element(")")]
    return [_text_element(f" ({MORE_IN_GUIDE})")]


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
        cut = _last_space(text, lo, hi)
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
    text = _clean(passage.text)
    best = _clean(passage.best_sentence).strip()
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
    return [_text_element(t, bold) for t, bold in pieces if t], trimmed


def _feedback_block(answer_id: str, style: Style) -> Block:
    up, down = f"up:{answer_id}"[:MAX_BUTTON_VALUE], f"down:{answer_id}"[:MAX_BUTTON_VALUE]
    if style == "basic":
        return {
            "type": "actions",
            "block_id": "guide_feedback",
            "elements": [
                {"type": "button", "action_id": f"{FEEDBACK_ACTION}_up", "text": _plain("👍 Helpful", MAX_BUTTON_TEXT), "value": up},
                {"type": "button", "action_id": f"{FEEDBACK_ACTION}_down", "text": _plain("👎 Not helpful", MAX_BUTTON_TEXT), "value": down},
            ],
        }
    return {
        "type": "context_actions",
        "block_id": "guide_feedback",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ACTION,
                "positive_button": {"text": _plain("👍", MAX_BUTTON_TEXT), "value": up, "accessibility_label": "This answer helped"},
                "negative_button": {"text": _plain("👎", MAX_BUTTON_TEXT), "value": down, "accessibility_label": "This answer did not help"},
            }
        ],
    }


def share_value(question: str, answer_id: str) -> str:
    """What the "Share in channel" button carries: enough to post the same reply again."""
    value = json.dumps({"q": clip(question, MAX_SHARE_QUESTION_CHARS, ""), "a": answer_id}, ensure_ascii=False)
    while len(value) > MAX_BUTTON_VALUE:  # many characters that JSON escapes: shorten further
        question = question[: len(question) // 2]
        value = json.dumps({"q": question, "a": answer_id}, ensure_ascii=False)
    return value


def parse_share_value(value: object) -> tuple[str, str] | None:
    if not isinstance(value, str):
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("q"), str) or not isinstance(data.get("a"), str):
        return None
    return data["q"], data["a"]


def parse_feedback_value(value: object) -> tuple[str, str] | None:
    """`up:<answer id>` → ("up", id); anything else → None."""
    if not isinstance(value, str):
        return None
    verdict, _, answer_id = value.partition(":")
    if verdict not in ("up", "down") or not answer_id or len(answer_id) > 64:
        return None
    return verdict, answer_id


def _share_block(share: str) -> Block:
    return {
        "type": "actions",
        "block_id": "guide_share",
        "elements": [{"type": "button", "action_id": SHARE_ACTION, "text": _plain("Share in channel", MAX_BUTTON_TEXT), "value": share}],
    }


def _sources_context(numbered: Sequence[_Numbered]) -> Block | None:
    texts = []
    for n in numbered[:MAX_CONTEXT_ELEMENTS]:
        label = clip(_clean(n.source.label), MAX_LABEL_CHARS)
        text = _mrkdwn_link(n.link, f"[{n.number}] {label}")
        if n.source.url and n.source.url.startswith(("https://", "http://")) and "|" not in n.source.url and ">" not in n.source.url:
            text += f" · <{n.source.url}|original>"
        texts.append(text)
    return _context(texts, "guide_sources")


def _message(text: str, blocks: list[Block], style: Style) -> Message:
    text = _clip_escaped(text.strip(), MAX_FALLBACK_CHARS)
    text = text if text.strip() else "guidebot"
    if style == "text":
        return {"text": text}
    return {"text": text, "blocks": blocks[:MAX_BLOCKS]}


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class _Quoted:
    """The passages of an answer worth rendering, with their source numbers."""

    passages: tuple[Passage, ...]
    numbers: tuple[_Numbered, ...]
    """`numbers[i]` is the source of `passages[i]`."""
    index: dict[int, int]
    """Position in `answer.passages` → position in `passages` (empty passages are left out)."""


def _quoted(answer: Answer, public_url: str | None) -> _Quoted:
    kept = [(i, p) for i, p in enumerate(answer.passages) if _clean(p.text).strip()]
    chunk_ids: dict[tuple[str, str], str | None] = {}
    for _, p in kept:
        chunk_ids.setdefault((p.source.document_id, p.source.section), p.chunk_id)
    numbered = _number_sources((p.source for _, p in kept), public_url, chunk_ids)
    return _Quoted(
        tuple(p for _, p in kept),
        tuple(numbered[(p.source.document_id, p.source.section)] for _, p in kept),
        {original: position for position, (original, _) in enumerate(kept)},
    )


def _lead(answer: Answer, quoted: _Quoted) -> list[tuple[str, int]]:
    """The lead's sentences with the position of their passage; the first passage's best sentence
    when the answer has no usable lead (a value built by hand, an older core)."""
    lead = []
    for sentence in answer.lead:
        text = clip(_clean(sentence.text).strip(), MAX_LEAD_CHARS)
        if text and sentence.passage in quoted.index:
            lead.append((text, quoted.index[sentence.passage]))
    if lead:
        return lead[:2]
    first = quoted.passages[0]
    best = _clean(first.best_sentence).strip()
    return [(clip(best if best and best in _clean(first.text) else _clean(first.text).strip(), MAX_LEAD_CHARS), 0)]


def _lead_block(lead: Sequence[tuple[str, int]], quoted: _Quoted, style: Style) -> Block:
    elements: list[dict[str, Any]] = []
    for text, position in lead:
        if elements:
            elements.append(_text_element(" "))
        elements += [_text_element(text + " "), _reference(quoted.numbers[position], style, text)]
    return {"type": "rich_text", "block_id": "guide_lead", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _quote_blocks(quoted: _Quoted, style: Style, *, compact: bool, said: Sequence[str] = ()) -> tuple[list[Block], list[_Numbered], bool]:
    """One quote block per passage: compact (under the lead) or whole (`passages_message`).

    Returns the blocks, the sources shown in order, and whether a passage was trimmed or left out."""
    blocks: list[Block] = []
    room = MAX_QUOTED_CHARS
    shown: list[_Numbered] = []
    left_out: _Numbered | None = None
    trimmed_any = False
    for i, (passage, n) in enumerate(zip(quoted.passages[:MAX_PASSAGES], quoted.numbers, strict=False)):
        budget = min(COMPACT_QUOTE_CHARS if compact else MAX_QUOTE_CHARS, room)
        if budget < (COMPACT_QUOTE_CHARS if compact else MIN_QUOTE_CHARS):
            left_out = left_out or n
            continue
        elements, trimmed = _quote_elements(passage, budget, compact=compact, said=said)
        room -= sum(len(e["text"]) for e in elements)
        elements += [_text_element(" "), _reference(n, style, passage.best_sentence)]
        if trimmed and n.link:
            elements += _more_in_guide(n)
        trimmed_any = trimmed_any or trimmed
        blocks.append({"type": "rich_text", "block_id": f"guide_quote_{i + 1}", "elements": [{"type": "rich_text_quote", "elements": elements}]})
        if n not in shown:
            shown.append(n)
    if len(quoted.passages) > MAX_PASSAGES:
        left_out = left_out or quoted.numbers[MAX_PASSAGES]
    if left_out is not None:
        more = _mrkdwn_link(left_out.link, f"More passages: {MORE_IN_GUIDE}") if left_out.link else escape(f"More passages are {MORE_IN_GUIDE}: {left_out.source.label}")
        blocks.append(_section(more, "guide_more"))
        if left_out not in shown:
            shown.append(left_out)
    return blocks, shown, trimmed_any or left_out is not None


def _passages_button(answer: Answer) -> Block:
    value = share_value(answer.question, answer.answer_id)
    button = {"type": "button", "action_id": PASSAGES_ACTION, "text": _plain(SHOW_PASSAGES, MAX_BUTTON_TEXT), "value": value}
    return {"type": "actions", "block_id": "guide_passages", "elements": [button]}


def answer_message(answer: Answer, *, public_url: str | None = None, share: str | None = None, style: Style = "native") -> Message:
    """An answer (or abstention) as a Slack message: `{"text": …, "blocks": […]}`, the lead first."""
    if answer.abstained:
        return _abstention_message(answer, style)
    quoted = _quoted(answer, public_url)
    if not quoted.passages:
        return _abstention_message(Answer(question=answer.question, abstained=True, reason="out_of_scope", answer_id=answer.answer_id), style)
    lead = _lead(answer, quoted)
    quotes, shown, trimmed = _quote_blocks(quoted, style, compact=True, said=[" ".join(text.split()) for text, _ in lead])
    cited = [quoted.numbers[position] for _, position in lead]
    shown = [n for n in cited if n not in shown] + shown if any(n not in shown for n in cited) else shown
    blocks: list[Block] = [_lead_block(lead, quoted, style), *quotes]
    if trimmed and answer.question.strip() and not all(n.link for n in quoted.numbers):
        blocks.append(_passages_button(answer))  # no page to link to: one click shows every passage in full
    sources = _sources_context(sorted(set(shown), key=lambda n: n.number))
    if sources:
        blocks.append(sources)
    if answer.answer_id:
        blocks.append(_feedback_block(answer.answer_id, style))
    if share:
        blocks.append(_share_block(share))

    # The notification and the fallback: the lead first, then the sources (links where text is all there is).
    said = " ".join(f"{text} [{quoted.numbers[position].number}]" for text, position in lead)
    listed = sorted(set(shown), key=lambda n: n.number)
    source_list = "; ".join(f"[{n.number}] {n.source.label}" + (f" {n.link}" if n.link and style == "text" else "") for n in listed)
    return _message(escape(f"{said} Sources: {source_list}"), blocks, style)


def passages_message(answer: Answer, *, public_url: str | None = None) -> Message:
    """What "Show the passages" answers with: every passage of the answer in full, and their sources."""
    if answer.abstained:
        return _abstention_message(answer, "links")
    quoted = _quoted(answer, public_url)
    if not quoted.passages:
        return _abstention_message(Answer(question=answer.question, abstained=True, reason="out_of_scope"), "links")
    quotes, shown, _ = _quote_blocks(quoted, "links", compact=False)
    blocks = [*quotes]
    sources = _sources_context(shown)
    if sources:
        blocks.append(sources)
    listed = "; ".join(f"[{n.number}] {n.source.label}" for n in shown)
    return _message(escape(f"The passages of the guide this answer quotes. Sources: {listed}"), blocks, "links")


# ---------------------------------------------------------------- what a member sees


def _visible_mrkdwn(text: str) -> str:
    return unescape(_MRKDWN_LINK.sub(lambda m: m.group(2), text))


def _visible_rich(elements: Iterable[Any]) -> int:
    chars = 0
    for element in elements:
        if not isinstance(element, dict):
            continue
        if isinstance(element.get("elements"), list):
            chars += _visible_rich(element["elements"])
        elif isinstance(element.get("text"), str):
            chars += len(element["text"])
    return chars


def visible_chars(message: Message) -> int:
    """Characters a member sees of a message: the blocks as Slack shows them, or the text without blocks."""
    blocks = message.get("blocks")
    if not blocks:
        return len(_visible_mrkdwn(message.get("text", "")))
    chars = 0
    for block in blocks:
        kind = block.get("type")
        if kind == "rich_text":
            chars += _visible_rich(block.get("elements", []))
        elif kind in ("section", "header"):
            chars += len(_visible_mrkdwn(block["text"]["text"]))
        elif kind == "context":
            chars += sum(len(_visible_mrkdwn(e.get("text", ""))) for e in block.get("elements", []))
        elif kind == "actions":
            chars += sum(len(e["text"]["text"]) for e in block.get("elements", []) if isinstance(e.get("text"), dict))
        elif kind == "context_actions":
            for element in block.get("elements", []):
                chars += sum(len(element[k]["text"]["text"]) for k in ("positive_button", "negative_button") if k in element)
    return chars


def answer_chars(answer: Answer) -> int:
    """Characters a member sees of an answer's Slack message (native style, as posted in a conversation).

    Rendered without a public URL: the "Show the passages" button counts then, and
    with one the links' labels are the same text. `guidebot eval` reports the median.
    """
    return visible_chars(answer_message(answer, style="native"))


def _abstention_message(answer: Answer, style: Style) -> Message:
    message = _clean(answer.message).strip() or "I couldn't find that in the guide."
    blocks: list[Block] = [_section(escape(message), "guide_abstain")]
    suggestions = [clip(_clean(s), MAX_LABEL_CHARS) for s in answer.suggestions if _clean(s).strip()][:8]
    if suggestions:
        listed = "\n".join(f"• {escape(s)}" for s in suggestions)
        blocks.append(_section(f"*Nearest sections of the guide:*\n{listed}", "guide_nearest"))
    hint = _context([HELP_HINT], "guide_help")  # HELP_HINT holds no member or document text
    if hint and answer.reason not in ("phi",):
        blocks.append(hint)
    if answer.answer_id and answer.reason == "out_of_scope":
        blocks.append(_feedback_block(answer.answer_id, style))
    text = escape(message + (" Nearest sections: " + "; ".join(suggestions) if suggestions else ""))
    return _message(text, blocks, style)


# ---------------------------------------------------------------- summaries


def summary_message(summary: Summary, *, public_url: str | None = None, share: str | None = None, style: Style = "native") -> Message:
    """A command's summary (`role vpma`, `path`, `help` …) as a Slack message."""
    blocks: list[Block] = [{"type": "header", "block_id": "guide_title", "text": _plain(summary.title, MAX_HEADER_TEXT, fallback="guidebot")}]
    if _clean(summary.intro).strip():
        blocks.append(_section(escape(_clean(summary.intro)), "guide_intro"))
    points = [p for p in summary.points if _clean(p.text).strip()][:MAX_SUMMARY_POINTS]
    chunk_ids: dict[tuple[str, str], str | None] = {}
    for p in points:
        chunk_ids.setdefault((p.source.document_id, p.source.section), p.chunk_id or None)
    numbered = _number_sources((p.source for p in points), public_url, chunk_ids)
    items: list[Block] = []
    room = MAX_QUOTED_CHARS
    for point in points:
        n = numbered[(point.source.document_id, point.source.section)]
        budget = min(MAX_QUOTE_CHARS, room)
        if budget < MIN_QUOTE_CHARS:
            break
        elements = []
        label = clip(_clean(point.label).strip(), MAX_LABEL_CHARS)
        if label:
            elements.append(_text_element(f"{label}: ", bold=True))
        body = clip(_clean(point.text).strip(), budget)
        room -= len(body) + len(label)
        elements += [_text_element(body), _text_element(" "), _reference(n, style, point.text)]
        items.append({"type": "rich_text_section", "elements": elements})
    if items:
        blocks.append({"type": "rich_text", "block_id": "guide_points", "elements": [{"type": "rich_text_list", "style": "bullet", "elements": items}]})
    shown = sorted({numbered[(p.source.document_id, p.source.section)] for p in points[: len(items)]}, key=lambda n: n.number)
    sources = _sources_context(shown)
    if sources:
        blocks.append(sources)
    suggestions = [clip(_clean(s), 80) for s in summary.suggestions if _clean(s).strip()][:8]
    tries = _context(["Try: " + " · ".join(f"`{escape(s)}`" for s in suggestions)], "guide_try") if suggestions else None
    if tries:
        blocks.append(tries)
    if share:
        blocks.append(_share_block(share))
    lines = [summary.title] + [f"• {(p.label + ': ') if p.label else ''}{p.text}" for p in points[:5]]
    if shown:
        lines.append("Sources: " + "; ".join(f"[{n.number}] {n.source.label}" for n in shown))
    return _message(escape(_clean("\n".join(lines))), [b for b in blocks if b], style)


# ---------------------------------------------------------------- everything else


def reply_message(reply: Reply, *, public_url: str | None = None, share: str | None = None, style: Style = "native") -> Message:
    if isinstance(reply, Summary):
        return summary_message(reply, public_url=public_url, share=share, style=style)
    return answer_message(reply, public_url=public_url, share=share, style=style)


def shareable(reply: Reply) -> bool:
    """Replies worth a "Share in channel" button: summaries and real answers."""
    return isinstance(reply, Summary) or (reply.answered and bool(reply.passages))


def failure_message() -> Message:
    return {"text": escape(FAILURE_TEXT), "blocks": [_section(escape(FAILURE_TEXT), "guide_failure")]}


def with_feedback_note(blocks: Sequence[Block], verdict: str) -> list[Block]:
    """The message's blocks with a line saying the feedback was received (replacing an earlier one)."""
    note = _context([escape(THANKS.get(verdict, "Thanks for the feedback."))], FEEDBACK_NOTE_BLOCK)
    kept = [b for b in blocks if isinstance(b, dict) and b.get("block_id") != FEEDBACK_NOTE_BLOCK]
    return (kept[: MAX_BLOCKS - 1] + [note]) if note else kept


def feedback_note_message(verdict: str) -> Message:
    text = escape(THANKS.get(verdict, "Thanks for the feedback."))
    return {"text": text, "blocks": [_context([text], FEEDBACK_NOTE_BLOCK)]}
