"""Adaptive Cards (schema 1.5, which Teams renders) for summaries, the welcome, and the passage a citation opens.

Pure functions: a `Summary` (plus plain parameters) in, the card's JSON out.
Guide and member text only ever goes into `TextRun`s, which Adaptive Cards never
read as markdown, after `plain()` has defused mention tags; titles and labels
are clipped so nothing overflows Teams' limits (about 28 KB a message; the card
is kept under `CARD_BUDGET` bytes by dropping the last points, with a note).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from adapters.teams.citations import source_url
from adapters.teams.text import clip, one_line, plain
from bot.answer import Passage, Summary, SummaryPoint

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
CARD_BUDGET = 24_000
"""Bytes of card JSON; Teams refuses messages over about 28 KB."""

FEEDBACK_ACTION = "guidebot.feedback"
"""`data.action` of the 👍 / 👎 buttons; the bot routes card submits on it."""

TITLE_MAX = 120
POINT_MAX = 700
LABEL_MAX = 80
SOURCE_MAX = 120
BUTTON_MAX = 40
SUGGESTIONS_MAX = 4
INTRO_LINES_MAX = 12
CODE_SPANS_MAX = 12
"""`code` spans an intro line may show in monospace; a line with more is no list of commands, and shown as typed:
each span is a run of its own, and a line of 700 backticks made a 40 KB card."""
FEEDBACK_LABELS = {"up": "👍 Helpful", "down": "👎 Not helpful"}
THANKS = {"up": "Thanks for the 👍, your feedback was recorded.", "down": "Thanks for the 👎, your feedback was recorded."}


def run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": plain(text), **style}


def rich(*inlines: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": [i for i in inlines if i["text"]], **props}


def im_back(title: str, text: str) -> dict[str, Any]:
    """A button that sends `text` as if the member typed it."""
    return {
        "type": "Action.Submit",
        "title": clip(plain(one_line(title)), BUTTON_MAX),
        "data": {"msteams": {"type": "imBack", "value": plain(one_line(text))}},
    }


def feedback_actions(feedback_id: str, command: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "Action.Submit",
            "title": FEEDBACK_LABELS[value],
            "data": {"action": FEEDBACK_ACTION, "feedbackId": feedback_id, "value": value, "command": command},
        }
        for value in ("up", "down")
    ]


def card(body: list[dict[str, Any]], fallback: str, actions: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "fallbackText": clip(plain(fallback), 1000),
        "body": body,
    }
    if actions:
        content["actions"] = list(actions)
    return content


def _point(point: SummaryPoint, public_url: str | None) -> dict[str, Any]:
    text = clip(one_line(point.text), POINT_MAX)
    lead = [run(clip(one_line(point.label), LABEL_MAX) + ": ", weight="Bolder")] if point.label.strip() else []
    source = run("— " + clip(one_line(point.source.label), SOURCE_MAX), isSubtle=True, size="Small")
    url = source_url(point.source, point.chunk_id or None, public_url)
    if url:
        source["selectAction"] = {"type": "Action.OpenUrl", "url": url, "title": "Open in the guide"}
    return {
        "type": "Container",
        "spacing": "Medium",
        "items": [rich(*lead, run(text)), rich(source, spacing="None")],
    }


def _intro(intro: str) -> list[dict[str, Any]]:
    """One block per line; `code` spans (the help list's commands) in monospace, never as markdown."""
    blocks = []
    for line in clip(intro.strip(), POINT_MAX * 2).splitlines()[:INTRO_LINES_MAX]:
        parts = one_line(line).split("`")
        if len(parts) % 2 == 0 or len(parts) > 2 * CODE_SPANS_MAX + 1:  # an unpaired backtick, or no command list
            parts = [one_line(line)]
        inlines = [run(part, fontType="Monospace", weight="Bolder") if i % 2 else run(part) for i, part in enumerate(parts)]
        if any(i["text"].strip() for i in inlines):
            blocks.append(rich(*inlines, spacing="Small"))
    return blocks


def _fallback(summary: Summary, points: Iterable[SummaryPoint]) -> str:
    lines = [one_line(summary.title)] + [f"• {one_line(p.text)} ({one_line(p.source.label)})" for p in points]
    return "\n".join(lines)


def summary_card(
    summary: Summary,
    public_url: str | None,
    *,
    feedback_id: str,
    command: str,
    thanked: str | None = None,
) -> dict[str, Any]:
    """A summary as a card: the quoted points with their sections, suggestions and 👍 / 👎.

    `command` (what the member typed) rides in the buttons' data so the card can
    be drawn again, thanked, when a button is pressed; `thanked` ("up" / "down")
    draws that version.
    """
    points = list(summary.points)
    while True:
        content = _summary_card(summary, points, public_url, feedback_id, command, thanked, len(summary.points))
        if not points or len(json.dumps(content, ensure_ascii=False).encode()) <= CARD_BUDGET:
            return content
        points.pop()


def _summary_card(
    summary: Summary,
    points: list[SummaryPoint],
    public_url: str | None,
    feedback_id: str,
    command: str,
    thanked: str | None,
    total: int,
) -> dict[str, Any]:
    body: list[dict[str, Any]] = [rich(run(clip(one_line(summary.title), TITLE_MAX) or "guidebot", weight="Bolder", size="Medium"))]
    body.extend(_intro(summary.intro))
    body.extend(_point(p, public_url) for p in points)
    if len(points) < total:
        body.append(rich(run(f"{total - len(points)} more in the guide.", isSubtle=True)))
    suggestions = [s for s in summary.suggestions if plain(one_line(s))][:SUGGESTIONS_MAX]
    if suggestions:
        body.append(rich(run("Try:", isSubtle=True, size="Small"), spacing="Medium"))
        body.append({"type": "ActionSet", "actions": [im_back(s, s) for s in suggestions]})
    if thanked in THANKS:
        body.append(rich(run(THANKS[thanked], isSubtle=True), spacing="Medium", separator=True))
        actions: list[dict[str, Any]] = []
    else:
        actions = feedback_actions(feedback_id, command)
    return card(body, _fallback(summary, points), actions)


def passage_card(passage: Passage, limit: int) -> dict[str, Any]:
    """A quoted passage, its best sentence in bold and its section under it: what a citation opens.

    Teams shows this card (stringified in the citation's `appearance.text`) when a
    member clicks the citation's number: the whole passage, one click from the lead.
    """
    text = clip(clean_paragraphs(passage.text), limit)
    best = one_line(passage.best_sentence)
    start = text.find(best) if best else -1
    if start >= 0:
        quote = rich(run(text[:start]), run(best, weight="Bolder"), run(text[start + len(best) :]))
    else:
        quote = rich(run(text or "…"))
    source = rich(run("— " + clip(one_line(passage.source.label), SOURCE_MAX), isSubtle=True, size="Small"), spacing="Small")
    return card([quote, source], text or one_line(passage.source.label))


def clean_paragraphs(text: str) -> str:
    """Whitespace of a passage as one TextRun shows it: paragraphs kept, other line breaks folded."""
    return "\n\n".join(one_line(p) for p in (text or "").split("\n\n") if one_line(p))


def welcome_card(examples: Sequence[tuple[str, str]], prompts: Sequence[str] = ()) -> dict[str, Any]:
    """What the bot does and how to ask, sent once when it is installed or added."""
    body: list[dict[str, Any]] = [
        rich(run("Hi, I'm guidebot", weight="Bolder", size="Medium")),
        rich(
            run(
                "Ask me about the path to Chief Medical Officer: roles, credentials and career stages. "
                "I answer by quoting the program's guide and show where each passage comes from."
            )
        ),
        rich(run("Commands", weight="Bolder"), spacing="Medium"),
    ]
    for syntax, description in examples:
        body.append(rich(run(syntax, fontType="Monospace", weight="Bolder"), run("  " + description), spacing="Small"))
    buttons = [im_back(p, p) for p in [p for p in prompts if plain(one_line(p))][:2]] + [im_back("help", "help")]
    fallback = "Hi, I'm guidebot. Ask a question about the guide, or type help."
    return card(body, fallback, buttons)


def card_attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": content}
