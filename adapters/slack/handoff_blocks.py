"""Block Kit for hand-offs: the member's "Ask the program team" button and its confirmation, the staff
post, the relayed reply and the staff notices. Pure functions, like `render`: a value in, a payload out.

Everything typed by a member or by staff is escaped (`escape`), so no `<!channel>` ever pings anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.slack.blocks import MAX_BUTTON_TEXT, MAX_SECTION_TEXT, Block, Message, Style, clean, clip, context, payload, plain, section
from adapters.slack.controls import feedback_block
from adapters.slack.text import escape
from bot.handoff import Handoff, StaffReply, platform_name, staff_state, is_relay_answer

ASK_TEAM_ACTION = "guide_ask_team"
"""`action_id` of "Ask the program team"; its value is the answer id."""
PUBLISH_ACTION = "guide_handoff_publish"
"""`action_id` of the staff post's "Add to the guide"; its value is the hand-off id."""
ASK_TEAM_BLOCK = "guide_ask_team"
ASK_TEAM_LABEL = "Ask the program team"
ASK_TEAM_NOTE = "Your question and your name go to the program team; their reply comes back here."
SENT_NOTE = "Sent to the program team. Their reply will come here."
SENT_BLOCK = f"{ASK_TEAM_BLOCK}_sent"
STAFF_STATE_BLOCK = "guide_handoff_state"
HOW_TO_REPLY = "Reply in this thread to answer: guidebot sends your reply to the member, with your name."


def ask_team_block(answer_id: str) -> Block:
    """The button that hands the question to the program team, and what it sends, said beside it."""
    button = {
        "type": "button",
        "action_id": ASK_TEAM_ACTION,
        "text": plain(ASK_TEAM_LABEL, MAX_BUTTON_TEXT),
        "value": answer_id,
        "accessibility_label": "Send your question and your name to the program team",
    }
    return {"type": "actions", "block_id": ASK_TEAM_BLOCK, "elements": [button]}


def ask_team_blocks(answer_id: str) -> list[Block]:
    note = context([escape(ASK_TEAM_NOTE)], f"{ASK_TEAM_BLOCK}_note")
    return [ask_team_block(answer_id), *([note] if note else [])]


def with_ask_team(blocks: Sequence[Block], answer_id: str) -> list[Block]:
    """`blocks` with "Ask the program team" (and its note) at the end, once."""
    kept = [b for b in blocks if isinstance(b, dict) and not str(b.get("block_id", "")).startswith(ASK_TEAM_BLOCK)]
    return kept[: 50 - 2] + ask_team_blocks(answer_id)


def after_vote(shown: Sequence[Block], verdict: str, answer_id: str, ask_team: bool) -> list[Block]:
    """A voted message's blocks: after a 👎 on an answer (not on a team reply), "Ask the program team" under it."""
    sent = any(isinstance(b, dict) and b.get("block_id") == SENT_BLOCK for b in shown)
    if ask_team and verdict == "down" and answer_id and not is_relay_answer(answer_id) and not sent:
        return with_ask_team(shown, answer_id)
    return list(shown)


def with_sent_note(blocks: Sequence[Block]) -> list[Block]:
    """`blocks` with the button (and its note) replaced by the confirmation."""
    kept = [b for b in blocks if isinstance(b, dict) and not str(b.get("block_id", "")).startswith(ASK_TEAM_BLOCK)]
    note = context([escape(SENT_NOTE)], SENT_BLOCK)
    return kept + ([note] if note else [])


def sent_message() -> Message:
    return {"text": escape(SENT_NOTE), "blocks": [section(escape(SENT_NOTE), SENT_BLOCK)]}



def staff_post_message(handoff: Handoff) -> Message:
    """The hand-off as the program team sees it in their channel."""
    question = clip(clean(handoff.question).strip(), MAX_SECTION_TEXT - 10)
    platform = platform_name(handoff.member_platform)
    blocks: list[Block] = [
        {"type": "header", "block_id": "guide_handoff_title", "text": plain("A member asks the program team", 150)},
        section("*Question*\n" + escape(question), "guide_handoff_question"),
        section(
            f"*Member:* {escape(clip(clean(handoff.member_name), 200))}\n*Platform:* {escape(platform)}\n"
            f"*guidebot:* {escape(clip(clean(handoff.bot_said), 1500))}\n*Hand-off:* `{escape(handoff.id)}`",
            "guide_handoff_details",
        ),
    ]
    state = context([escape(staff_state(handoff, HOW_TO_REPLY))], STAFF_STATE_BLOCK)
    if state:
        blocks.append(state)
    if handoff.state != "published":
        button = {"type": "button", "action_id": PUBLISH_ACTION, "text": plain("Add to the guide", MAX_BUTTON_TEXT), "value": handoff.id}
        blocks.append({"type": "actions", "block_id": "guide_handoff_actions", "elements": [button]})
    text = f"{handoff.member_name} ({platform}) asks the program team: {question}"
    return payload(escape(text), blocks, "native")


def relay_message(reply: StaffReply, answer_id: str, *, number: int, style: Style = "native") -> Message:
    """A staff reply in the member's conversation: "From the program team:", who, the reply, 👍 / 👎."""
    lead = "From the program team" if number <= 1 else "More from the program team"
    text = clean(reply.text).strip() or "…"
    blocks: list[Block] = [
        section(f"*{escape(lead)}:* {escape(clean(reply.who))}", "guide_team_from"),
        *[section(escape(part), f"guide_team_reply_{i}") for i, part in enumerate(_parts(text))],
        feedback_block(answer_id, "basic" if style == "basic" else "native"),
    ]
    return payload(escape(f"{lead}: {reply.who}: {text}"), blocks, style)


def _parts(text: str, size: int = MAX_SECTION_TEXT - 200) -> list[str]:
    """Text longer than one section, in sections (escaping may lengthen it: room is left)."""
    parts = []
    while text:
        cut = clip(text, size, "")
        parts.append(cut)
        text = text[len(cut) :].strip()
    return parts[:10]


def notice_message(text: str) -> Message:
    return {"text": escape(text), "blocks": [section(escape(text), "guide_handoff_notice")]}
