"""The core's `Reply` as Bot Framework activity JSON for Teams (pure functions).

- An answer is a message whose markdown text quotes the passages, each ending in
  its source number `[n]`, with the citation entity (`citations.py`) and Teams'
  own feedback buttons (`channelData.feedbackLoopEnabled`). The answer id rides
  in `channelData.guidebot.answerId`; the bot also files the sent message's id
  against it, since the feedback invoke only points back with `replyToId`.
- An abstention says so plainly, lists the nearest sections and the help command.
- A summary is an Adaptive Card (`cards.py`).

Everything stays under `MESSAGE_BUDGET` bytes: quotes are shortened at a word
boundary (marked "…") until the activity fits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from adapters.teams.cards import card_attachment, summary_card, welcome_card
from adapters.teams.citations import citation_entity, source_numbers
from adapters.teams.text import clip, escape_markdown, lines, one_line, plain
from bot.answer import Answer, Summary

MESSAGE_BUDGET = 24_000
QUOTE_MAX = 1_500
QUOTE_MIN = 200
SUGGESTIONS_MAX = 5
HELP_HINT = "Type **help** to see what I can do."


def _quote(text: str, best: str, limit: int) -> str:
    """A blockquote of the passage (escaped), its best sentence in bold."""
    text = clip(text.strip(), limit)
    start = text.find(best) if best and "\n" not in best.strip() else -1
    if start >= 0 and best.strip():
        body = escape_markdown(text[:start]) + "**" + escape_markdown(best.strip()) + "**" + escape_markdown(text[start + len(best) :])
    else:
        body = escape_markdown(text)
    paragraphs = [" ".join(line.strip() for line in p.splitlines() if line.strip()) for p in body.split("\n\n")]
    return "\n>\n".join(f"> {p}" for p in paragraphs if p) or "> …"


def answer_text(answer: Answer, quote_max: int = QUOTE_MAX) -> str:
    numbers = source_numbers(answer)
    parts = []
    for passage in answer.passages:
        n = numbers[(passage.source.document_id, passage.source.section)]
        parts.append(f"{_quote(passage.text, passage.best_sentence, quote_max)} [{n}]")
    return "\n\n".join(parts)


def feedback_channel_data(answer_id: str) -> dict[str, Any]:
    # `feedbackLoopEnabled` alone: Teams wants it or `feedbackLoop`, never both.
    return {"feedbackLoopEnabled": True, "guidebot": {"answerId": answer_id}}


def answer_activity(answer: Answer, public_url: str | None) -> dict[str, Any]:
    if answer.abstained:
        return abstention_activity(answer)
    quote_max = QUOTE_MAX
    while True:
        activity = {
            "type": "message",
            "textFormat": "markdown",
            "text": answer_text(answer, quote_max),
            "entities": [citation_entity(answer, public_url)],
            "channelData": feedback_channel_data(answer.answer_id),
        }
        if quote_max <= QUOTE_MIN or len(json.dumps(activity, ensure_ascii=False).encode()) <= MESSAGE_BUDGET:
            return activity
        quote_max = max(QUOTE_MIN, int(quote_max * 0.7))


def abstention_text(answer: Answer) -> str:
    """The refusal, then each nearest section on a line of its own (a paragraph each: Teams runs
    lines joined by a single newline together), then the help hint."""
    parts = [escape_markdown(one_line(answer.message) or "I can't answer that from the guide.")]
    suggestions = [s for s in answer.suggestions if one_line(s)][:SUGGESTIONS_MAX]
    if suggestions:
        parts.append("Nearest sections of the guide:")
        parts.extend(f"• {escape_markdown(clip(one_line(s), 120))}" for s in suggestions)
    parts.append(HELP_HINT)
    return lines(parts)


def abstention_activity(answer: Answer) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message", "textFormat": "markdown", "text": abstention_text(answer)}
    if answer.reason != "empty" and answer.answer_id:
        activity["channelData"] = feedback_channel_data(answer.answer_id)
    return activity


def summary_activity(
    summary: Summary, public_url: str | None, *, feedback_id: str, command: str, thanked: str | None = None
) -> dict[str, Any]:
    content = summary_card(summary, public_url, feedback_id=feedback_id, command=command, thanked=thanked)
    return {"type": "message", "summary": clip(plain(one_line(summary.title)), 100), "attachments": [card_attachment(content)]}


def welcome_activity(examples: Sequence[tuple[str, str]], prompts: Sequence[str] = ()) -> dict[str, Any]:
    return {"type": "message", "attachments": [card_attachment(welcome_card(examples, prompts))]}


THANKS_TEXT = "Thanks, your feedback was recorded."
FAILURE_TEXT = "I couldn't answer that just now. Please try again in a minute."


def thanks_activity() -> dict[str, Any]:
    return {"type": "message", "text": THANKS_TEXT}


def failure_activity() -> dict[str, Any]:
    return {"type": "message", "text": FAILURE_TEXT}
