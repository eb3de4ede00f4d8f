"""Adaptive Cards and messages for hand-offs on Teams: the member's "Ask the program team" card and its
confirmation, the staff post (with its reply field), the relayed reply and the staff notices.

Pure functions, like `cards` and `replies`: a value in, activity JSON out. Member and staff text only goes
into `TextRun`s (never read as markdown, mention tags defused by `plain`) or, in a markdown message, through
`escape_markdown`, so nothing anyone typed becomes markup or pings anyone.
"""

from __future__ import annotations

from typing import Any

from adapters.teams.cards import card, card_attachment, rich, run
from adapters.teams.replies import feedback_channel_data
from adapters.teams.text import clip, escape_markdown, one_line, plain
from bot.handoff import Handoff, StaffReply, platform_name, staff_state

ASK_TEAM_ACTION = "guidebot.askTeam"
"""`data.action` of "Ask the program team"; `data.answerId` names the answer."""
STAFF_REPLY_ACTION = "guidebot.staffReply"
"""`data.action` of the staff post's "Send reply"; the reply is the `replyText` input."""
PUBLISH_ACTION = "guidebot.handoffPublish"
"""`data.action` of the staff post's "Add to the guide"; `data.handoffId` names the hand-off."""
REPLY_INPUT = "replyText"
ASK_TEAM_LABEL = "Ask the program team"
ASK_TEAM_NOTE = "Your question and your name go to the program team; their reply comes back here."
SENT_NOTE = "Sent to the program team. Their reply will come here."
HOW_TO_REPLY = "Reply to this post mentioning guidebot, or type your reply below: guidebot sends it to the member, with your name."
QUESTION_MAX = 2_000
REPLY_MAX = 20_000


def ask_team_activity(answer_id: str) -> dict[str, Any]:
    """The card offering the program team, under a refusal or after a 👎: what it sends, said on it."""
    body = [rich(run("Not what you needed?", weight="Bolder")), rich(run(ASK_TEAM_NOTE, isSubtle=True), spacing="Small")]
    action = {"type": "Action.Submit", "title": ASK_TEAM_LABEL, "data": {"action": ASK_TEAM_ACTION, "answerId": answer_id}}
    content = card(body, f"{ASK_TEAM_LABEL}: {ASK_TEAM_NOTE}", [action])
    return {"type": "message", "summary": ASK_TEAM_LABEL, "attachments": [card_attachment(content)]}


def sent_activity(text: str = SENT_NOTE) -> dict[str, Any]:
    """The offer card, redrawn once pressed: the confirmation (or why nothing was sent), and no button."""
    content = card([rich(run(text))], text)
    return {"type": "message", "summary": clip(plain(text), 100), "attachments": [card_attachment(content)]}



def staff_post_activity(handoff: Handoff) -> dict[str, Any]:
    """The hand-off as the program team sees it in their channel: one card."""
    question = clip(one_line(handoff.question), QUESTION_MAX)
    platform = platform_name(handoff.member_platform)
    facts = [
        {"title": "Member", "value": plain(clip(one_line(handoff.member_name), 200))},
        {"title": "Platform", "value": plain(platform)},
        {"title": "guidebot", "value": plain(clip(one_line(handoff.bot_said), 1_500))},
        {"title": "Hand-off", "value": plain(handoff.id)},
    ]
    body: list[dict[str, Any]] = [
        rich(run("A member asks the program team", weight="Bolder", size="Medium")),
        rich(run(question or "…")),
        {"type": "FactSet", "facts": facts, "spacing": "Medium"},
        rich(run(staff_state(handoff, HOW_TO_REPLY), isSubtle=True), spacing="Medium", separator=True),
    ]
    actions: list[dict[str, Any]] = []
    if handoff.state != "published":
        body.append({"type": "Input.Text", "id": REPLY_INPUT, "isMultiline": True, "maxLength": REPLY_MAX,
                     "placeholder": "Your reply to the member", "label": "Reply"})
        actions = [
            {"type": "Action.Submit", "title": "Send reply", "data": {"action": STAFF_REPLY_ACTION, "handoffId": handoff.id}},
            {"type": "Action.Submit", "title": "Add to the guide", "data": {"action": PUBLISH_ACTION, "handoffId": handoff.id}},
        ]
    fallback = f"{handoff.member_name} ({platform}) asks the program team: {question}"
    content = card(body, fallback, actions)
    return {"type": "message", "summary": clip(plain(fallback), 100), "attachments": [card_attachment(content)]}


def relay_activity(reply: StaffReply, answer_id: str, *, number: int) -> dict[str, Any]:
    """A staff reply in the member's conversation: "From the program team:", who, the reply, Teams' 👍 / 👎."""
    lead = "From the program team" if number <= 1 else "More from the program team"
    paragraphs = [escape_markdown(one_line(p)) for p in clip(reply.text, REPLY_MAX).split("\n\n") if one_line(p)]
    text = "\n\n".join([f"**{lead}:** {escape_markdown(one_line(reply.who))}", *(paragraphs or ["…"])])
    return {
        "type": "message",
        "textFormat": "markdown",
        "text": text,
        "summary": clip(plain(f"{lead}: {one_line(reply.who)}"), 100),
        "channelData": feedback_channel_data(answer_id),
    }


def notice_activity(text: str) -> dict[str, Any]:
    return {"type": "message", "textFormat": "plain", "text": plain(one_line(text))}
