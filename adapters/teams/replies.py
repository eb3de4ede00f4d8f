"""The core's `Reply` as Bot Framework activity JSON for Teams (pure functions).

- An answer leads with the answer: its text is the lead (the guide's one or two
  sentences that answer, verbatim), each sentence ending in its source number
  `[n]`, then, when other passages add something, one line naming their
  sections with their numbers. The numbers are Teams citations
  (`citations.py`): hovering one shows the passage's best sentence, clicking it
  opens the whole passage (an Adaptive Card, `cards.passage_card`) and its link
  to `/docs`. The activity's `summary` (the plain-text preview) is the lead too.
  Teams' own feedback buttons ride along (`channelData.feedbackLoopEnabled`);
  the answer id rides in `channelData.guidebot.answerId`, and the bot also files
  the sent message's id against it, since the feedback invoke only points back
  with `replyToId`.
- An abstention says so plainly, lists the nearest sections and the help command.
- A summary is an Adaptive Card (`cards.py`).

Everything stays under `MESSAGE_BUDGET` bytes: the passages in the citations
are shortened at a word boundary (marked "…") until the activity fits.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from adapters.teams.cards import card_attachment, passage_card, summary_card, welcome_card
from adapters.teams.citations import CITATIONS_MAX, citation_entity, source_numbers
from adapters.teams.text import clip, escape_markdown, lines, one_line, plain
from bot.answer import Answer, Passage, Summary

MESSAGE_BUDGET = 24_000
QUOTE_MAX = 3_000
"""Characters of a passage in the card its citation opens."""
QUOTE_MIN = 200
LEAD_MAX = 600
"""Characters of one lead sentence (the core keeps the whole lead within 450)."""
SUMMARY_MAX = 250
SUGGESTIONS_MAX = 5
HELP_HINT = "Type **help** to see what I can do."
ALSO = "Also in the guide:"


def lead(answer: Answer) -> list[tuple[str, int]]:
    """The lead's sentences (one line each) with their citation numbers; the first passage's best
    sentence when the answer has none (a value built by hand, an older core)."""
    numbers = source_numbers(answer)

    def number(passage: Passage) -> int:
        return numbers[(passage.source.document_id, passage.source.section)]

    found = [
        (clip(one_line(s.text), LEAD_MAX), number(answer.passages[s.passage]))
        for s in answer.lead
        if 0 <= s.passage < len(answer.passages) and one_line(s.text)
    ][:2]
    if found or not answer.passages:
        return found
    first = answer.passages[0]
    return [(clip(one_line(first.best_sentence) or one_line(first.text) or "…", LEAD_MAX), number(first))]


def answer_text(answer: Answer) -> str:
    """The lead, each sentence closed by `[n]`; then the other passages' sections with their numbers."""
    said = lead(answer)
    parts = [" ".join(f"{escape_markdown(text)} [{n}]" for text, n in said)]
    cited = {n for _, n in said}
    others = [(n, s) for n, s in enumerate(answer.sources, start=1) if n not in cited and n <= CITATIONS_MAX]
    if others:
        parts.append(ALSO + " " + " · ".join(f"{escape_markdown(clip(one_line(s.section or s.document_title), 80))} [{n}]" for n, s in others))
    return "\n\n".join(p for p in parts if p)


def summary_text(answer: Answer) -> str:
    """The plain-text preview: the lead, without markup."""
    return clip(plain(" ".join(f"{text} [{n}]" for text, n in lead(answer))), SUMMARY_MAX)


_BOLD = re.compile(r"\*\*")


def shown_text(text: str) -> str:
    """A markdown message's text as Teams shows it: character references read, bold markers gone (line breaks kept)."""
    return html.unescape(_BOLD.sub("", text))


def answer_chars(answer: Answer) -> int:
    """Characters a member sees of an answer's Teams message (the citations show on hover and click)."""
    activity = answer_activity(answer, None)
    return len(shown_text(activity.get("text", "")).replace("\n", ""))


def feedback_channel_data(answer_id: str) -> dict[str, Any]:
    # `feedbackLoopEnabled` alone: Teams wants it or `feedbackLoop`, never both.
    return {"feedbackLoopEnabled": True, "guidebot": {"answerId": answer_id}}


def answer_activity(answer: Answer, public_url: str | None) -> dict[str, Any]:
    if answer.abstained or not answer.passages:
        return abstention_activity(answer)
    quote_max = QUOTE_MAX
    while True:
        activity = {
            "type": "message",
            "textFormat": "markdown",
            "text": answer_text(answer),
            "summary": summary_text(answer),
            "entities": [citation_entity(answer, public_url, partial(passage_card, limit=quote_max))],
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
