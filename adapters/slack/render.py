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

This module holds the entry points and re-exports the names callers use; the
pieces live beside it: `blocks` (text objects, numbered sources, limits),
`passages` (which part of a passage to quote) and `controls` (the buttons and
the values they carry).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from adapters.slack.blocks import (
    MAX_BLOCK_ID,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FALLBACK_CHARS,
    MAX_HEADER_TEXT,
    MAX_LABEL_CHARS,
    MAX_MARKDOWN_TEXT,
    MAX_SECTION_TEXT,
    MAX_SNIPPET_CHARS,
    MORE_IN_GUIDE,
    STYLES,
    Block,
    Message,
    Style,
    clean,
    clip,
    context,
    number_sources,
    payload,
    plain,
    reference,
    section,
    sources_context,
    text_element,
)
from adapters.slack.controls import (
    FEEDBACK_ACTION,
    MAX_SHARE_QUESTION_CHARS,
    PASSAGES_ACTION,
    SHARE_ACTION,
    SHOW_PASSAGES,
    feedback_block,
    parse_feedback_value,
    parse_share_value,
    passages_button,
    share_block,
    share_value,
)
from adapters.slack.handoff_blocks import ask_team_blocks
from adapters.slack.passages import (
    COMPACT_QUOTE_CHARS,
    MAX_PASSAGES,
    MAX_QUOTE_CHARS,
    MAX_QUOTED_CHARS,
    MIN_QUOTE_CHARS,
    Quoted,
    passages_of,
    quote_blocks,
)
from adapters.slack.text import escape, unescape
from bot.answer import Answer, Reply, Summary

__all__ = [
    "COMPACT_QUOTE_CHARS",
    "FAILURE_TEXT",
    "FEEDBACK_ACTION",
    "FEEDBACK_NOTE_BLOCK",
    "HELP_HINT",
    "MAX_BLOCKS",
    "MAX_BLOCK_ID",
    "MAX_BUTTON_TEXT",
    "MAX_BUTTON_VALUE",
    "MAX_CONTEXT_ELEMENTS",
    "MAX_FALLBACK_CHARS",
    "MAX_HEADER_TEXT",
    "MAX_LABEL_CHARS",
    "MAX_LEAD_CHARS",
    "MAX_MARKDOWN_TEXT",
    "MAX_PASSAGES",
    "MAX_QUOTED_CHARS",
    "MAX_QUOTE_CHARS",
    "MAX_SECTION_TEXT",
    "MAX_SHARE_QUESTION_CHARS",
    "MAX_SNIPPET_CHARS",
    "MAX_SUMMARY_POINTS",
    "MIN_QUOTE_CHARS",
    "MORE_IN_GUIDE",
    "PASSAGES_ACTION",
    "SHARE_ACTION",
    "SHOW_PASSAGES",
    "STYLES",
    "THANKS",
    "Block",
    "Message",
    "Style",
    "answer_chars",
    "answer_message",
    "clip",
    "failure_message",
    "feedback_note_message",
    "parse_feedback_value",
    "parse_share_value",
    "passages_message",
    "reply_message",
    "share_value",
    "shareable",
    "summary_message",
    "visible_chars",
    "with_feedback_note",
]

MAX_LEAD_CHARS = 600
"""Characters of one lead sentence (the core keeps the whole lead within 450)."""
MAX_SUMMARY_POINTS = 30

FEEDBACK_NOTE_BLOCK = "guide_feedback_note"
FAILURE_TEXT = "I couldn't answer that just now. Please try again in a minute."
HELP_HINT = "Try `/guide help` to see what I can answer."
THANKS = {"up": "Thanks, glad it helped.", "down": "Thanks, noted: this answer missed."}

_MRKDWN_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")


# ---------------------------------------------------------------- answers


def _lead(answer: Answer, quoted: Quoted) -> list[tuple[str, int]]:
    """The lead's sentences with the position of their passage; the first passage's best sentence
    when the answer has no usable lead (a value built by hand, an older core)."""
    lead = []
    for sentence in answer.lead:
        text = clip(clean(sentence.text).strip(), MAX_LEAD_CHARS)
        if text and sentence.passage in quoted.index:
            lead.append((text, quoted.index[sentence.passage]))
    if lead:
        return lead[:2]
    first = quoted.passages[0]
    best = clean(first.best_sentence).strip()
    return [(clip(best if best and best in clean(first.text) else clean(first.text).strip(), MAX_LEAD_CHARS), 0)]


def _lead_block(lead: Sequence[tuple[str, int]], quoted: Quoted, style: Style) -> Block:
    elements: list[dict[str, Any]] = []
    for text, position in lead:
        if elements:
            elements.append(text_element(" "))
        elements += [text_element(text + " "), reference(quoted.numbers[position], style, text)]
    return {"type": "rich_text", "block_id": "guide_lead", "elements": [{"type": "rich_text_section", "elements": elements}]}


def answer_message(
    answer: Answer, *, public_url: str | None = None, share: str | None = None, style: Style = "native", ask_team: bool = False
) -> Message:
    """An answer (or abstention) as a Slack message: `{"text": …, "blocks": […]}`, the lead first. `ask_team`: a
    refusal offers "Ask the program team" (hand-offs are on)."""
    if answer.abstained:
        return _abstention_message(answer, style, ask_team)
    quoted = passages_of(answer, public_url)
    if not quoted.passages:
        return _abstention_message(Answer(question=answer.question, abstained=True, reason="out_of_scope", answer_id=answer.answer_id), style)
    lead = _lead(answer, quoted)
    quotes, shown, trimmed = quote_blocks(quoted, style, compact=True, said=[" ".join(text.split()) for text, _ in lead])
    cited = [quoted.numbers[position] for _, position in lead]
    shown = [n for n in cited if n not in shown] + shown if any(n not in shown for n in cited) else shown
    blocks: list[Block] = [_lead_block(lead, quoted, style), *quotes]
    if trimmed and answer.question.strip() and not all(n.link for n in quoted.numbers):
        blocks.append(passages_button(answer))  # no page to link to: one click shows every passage in full
    sources = sources_context(sorted(set(shown), key=lambda n: n.number))
    if sources:
        blocks.append(sources)
    if answer.answer_id:
        blocks.append(feedback_block(answer.answer_id, style))
    if share:
        blocks.append(share_block(share))

    # The notification and the fallback: the lead first, then the sources (links where text is all there is).
    said = " ".join(f"{text} [{quoted.numbers[position].number}]" for text, position in lead)
    listed = sorted(set(shown), key=lambda n: n.number)
    source_list = "; ".join(f"[{n.number}] {n.source.label}" + (f" {n.link}" if n.link and style == "text" else "") for n in listed)
    return payload(escape(f"{said} Sources: {source_list}"), blocks, style)


def passages_message(answer: Answer, *, public_url: str | None = None) -> Message:
    """What "Show the passages" answers with: every passage of the answer in full, and their sources."""
    if answer.abstained:
        return _abstention_message(answer, "links")
    quoted = passages_of(answer, public_url)
    if not quoted.passages:
        return _abstention_message(Answer(question=answer.question, abstained=True, reason="out_of_scope"), "links")
    quotes, shown, _ = quote_blocks(quoted, "links", compact=False)
    blocks = [*quotes]
    sources = sources_context(shown)
    if sources:
        blocks.append(sources)
    listed = "; ".join(f"[{n.number}] {n.source.label}" for n in shown)
    return payload(escape(f"The passages of the guide this answer quotes. Sources: {listed}"), blocks, "links")


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


def _abstention_message(answer: Answer, style: Style, ask_team: bool = False) -> Message:
    message = clean(answer.message).strip() or "I couldn't find that in the guide."
    blocks: list[Block] = [section(escape(message), "guide_abstain")]
    suggestions = [clip(clean(s), MAX_LABEL_CHARS) for s in answer.suggestions if clean(s).strip()][:8]
    if suggestions:
        listed = "\n".join(f"• {escape(s)}" for s in suggestions)
        blocks.append(section(f"*Nearest sections of the guide:*\n{listed}", "guide_nearest"))
    hint = context([HELP_HINT], "guide_help")  # HELP_HINT holds no member or document text
    if hint and answer.reason not in ("phi",):
        blocks.append(hint)
    if answer.answer_id and answer.reason == "out_of_scope":
        blocks.append(feedback_block(answer.answer_id, style))
        if ask_team and style != "text":
            blocks += ask_team_blocks(answer.answer_id)
    text = escape(message + (" Nearest sections: " + "; ".join(suggestions) if suggestions else ""))
    return payload(text, blocks, style)


# ---------------------------------------------------------------- summaries


def summary_message(summary: Summary, *, public_url: str | None = None, share: str | None = None, style: Style = "native") -> Message:
    """A command's summary (`role vpma`, `path`, `help` …) as a Slack message."""
    blocks: list[Block] = [{"type": "header", "block_id": "guide_title", "text": plain(summary.title, MAX_HEADER_TEXT, fallback="guidebot")}]
    if clean(summary.intro).strip():
        blocks.append(section(escape(clean(summary.intro)), "guide_intro"))
    points = [p for p in summary.points if clean(p.text).strip()][:MAX_SUMMARY_POINTS]
    chunk_ids: dict[tuple[str, str], str | None] = {}
    for p in points:
        chunk_ids.setdefault((p.source.document_id, p.source.section), p.chunk_id or None)
    numbered = number_sources((p.source for p in points), public_url, chunk_ids)
    items: list[Block] = []
    room = MAX_QUOTED_CHARS
    for point in points:
        n = numbered[(point.source.document_id, point.source.section)]
        budget = min(MAX_QUOTE_CHARS, room)
        if budget < MIN_QUOTE_CHARS:
            break
        elements = []
        label = clip(clean(point.label).strip(), MAX_LABEL_CHARS)
        if label:
            elements.append(text_element(f"{label}: ", bold=True))
        body = clip(clean(point.text).strip(), budget)
        room -= len(body) + len(label)
        elements += [text_element(body), text_element(" "), reference(n, style, point.text)]
        items.append({"type": "rich_text_section", "elements": elements})
    if items:
        blocks.append({"type": "rich_text", "block_id": "guide_points", "elements": [{"type": "rich_text_list", "style": "bullet", "elements": items}]})
    shown = sorted({numbered[(p.source.document_id, p.source.section)] for p in points[: len(items)]}, key=lambda n: n.number)
    sources = sources_context(shown)
    if sources:
        blocks.append(sources)
    suggestions = [clip(clean(s), 80) for s in summary.suggestions if clean(s).strip()][:8]
    tries = context(["Try: " + " · ".join(f"`{escape(s)}`" for s in suggestions)], "guide_try") if suggestions else None
    if tries:
        blocks.append(tries)
    if share:
        blocks.append(share_block(share))
    lines = [summary.title] + [f"• {(p.label + ': ') if p.label else ''}{p.text}" for p in points[:5]]
    if shown:
        lines.append("Sources: " + "; ".join(f"[{n.number}] {n.source.label}" for n in shown))
    return payload(escape(clean("\n".join(lines))), [b for b in blocks if b], style)


# ---------------------------------------------------------------- everything else


def reply_message(
    reply: Reply, *, public_url: str | None = None, share: str | None = None, style: Style = "native", ask_team: bool = False
) -> Message:
    if isinstance(reply, Summary):
        return summary_message(reply, public_url=public_url, share=share, style=style)
    return answer_message(reply, public_url=public_url, share=share, style=style, ask_team=ask_team)


def shareable(reply: Reply) -> bool:
    """Replies worth a "Share in channel" button: summaries and real answers."""
    return isinstance(reply, Summary) or (reply.answered and bool(reply.passages))


def failure_message() -> Message:
    return {"text": escape(FAILURE_TEXT), "blocks": [section(escape(FAILURE_TEXT), "guide_failure")]}


def with_feedback_note(blocks: Sequence[Block], verdict: str) -> list[Block]:
    """The message's blocks with a line saying the feedback was received (replacing an earlier one)."""
    note = context([escape(THANKS.get(verdict, "Thanks for the feedback."))], FEEDBACK_NOTE_BLOCK)
    kept = [b for b in blocks if isinstance(b, dict) and b.get("block_id") != FEEDBACK_NOTE_BLOCK]
    return (kept[: MAX_BLOCKS - 1] + [note]) if note else kept


def feedback_note_message(verdict: str) -> Message:
    text = escape(THANKS.get(verdict, "Thanks for the feedback."))
    return {"text": text, "blocks": [context([text], FEEDBACK_NOTE_BLOCK)]}
