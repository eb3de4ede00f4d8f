"""The buttons under a reply and the values they carry back when clicked.

The renderers put these blocks in a message; `adapters.slack.app` routes clicks
by their `action_id`s and the listeners read their values back with the
`parse_*` functions here, so a button's value is written and read in one place.
"""

from __future__ import annotations

import json

from adapters.slack.blocks import MAX_BUTTON_TEXT, MAX_BUTTON_VALUE, Block, Style, clip, plain
from bot.answer import Answer

FEEDBACK_ACTION = "guide_feedback"
"""`action_id` of the feedback control (plain buttons add `_up` / `_down`)."""
SHARE_ACTION = "guide_share"
PASSAGES_ACTION = "guide_passages"
"""`action_id` of "Show the passages": its value is a `share_value` (question and answer id)."""
SHOW_PASSAGES = "Show the passages"
MAX_SHARE_QUESTION_CHARS = 1500


def feedback_block(answer_id: str, style: Style) -> Block:
    """👍 / 👎 whose values carry the answer id: `feedback_buttons`, or plain buttons in the `basic` style."""
    up, down = f"up:{answer_id}"[:MAX_BUTTON_VALUE], f"down:{answer_id}"[:MAX_BUTTON_VALUE]
    if style == "basic":
        return {
            "type": "actions",
            "block_id": "guide_feedback",
            "elements": [
                {"type": "button", "action_id": f"{FEEDBACK_ACTION}_up", "text": plain("👍 Helpful", MAX_BUTTON_TEXT), "value": up},
                {"type": "button", "action_id": f"{FEEDBACK_ACTION}_down", "text": plain("👎 Not helpful", MAX_BUTTON_TEXT), "value": down},
            ],
        }
    return {
        "type": "context_actions",
        "block_id": "guide_feedback",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ACTION,
                "positive_button": {"text": plain("👍", MAX_BUTTON_TEXT), "value": up, "accessibility_label": "This answer helped"},
                "negative_button": {"text": plain("👎", MAX_BUTTON_TEXT), "value": down, "accessibility_label": "This answer did not help"},
            }
        ],
    }


def share_block(share: str) -> Block:
    return {
        "type": "actions",
        "block_id": "guide_share",
        "elements": [{"type": "button", "action_id": SHARE_ACTION, "text": plain("Share in channel", MAX_BUTTON_TEXT), "value": share}],
    }


def passages_button(answer: Answer) -> Block:
    """"Show the passages": carries the question and answer id, so a click can answer again in full."""
    value = share_value(answer.question, answer.answer_id)
    button = {"type": "button", "action_id": PASSAGES_ACTION, "text": plain(SHOW_PASSAGES, MAX_BUTTON_TEXT), "value": value}
    return {"type": "actions", "block_id": "guide_passages", "elements": [button]}


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
