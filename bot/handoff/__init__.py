"""Hand-offs: a member's question the guide could not settle, handed to the program team, and the team's
reply brought back into the member's conversation (and, when a person chooses, into the guide).

The core owns the whole life of a hand-off, whatever the platforms: `model` (the values and the
`Messenger` protocol an adapter implements), `desk` (`HandoffDesk`, `Guidebot.handoffs`: hand a question
off, take a staff reply, remind, publish), `flows` (the inbox flows that post, relay and remind durably),
`publish` (the program team's answers as a document of the guide) and `cli` (`guidebot handoffs`).
Adapters fill `Guidebot.messengers` with a `Messenger` each and call the desk; nothing here imports them.
"""

from bot.handoff.model import (
    platform_name,
    staff_state,
    HANDOFF_PLATFORM,
    Failure,
    Handoff,
    HandoffError,
    Messenger,
    HandoffState,
    Sent,
    StaffPlace,
    StaffPost,
    StaffReply,
    is_relay_answer,
    relay_answer_id,
    staff_place,
)

__all__ = [
    "HANDOFF_PLATFORM",
    "Failure",
    "Handoff",
    "HandoffError",
    "HandoffState",
    "Messenger",
    "Sent",
    "StaffPlace",
    "StaffPost",
    "StaffReply",
    "is_relay_answer",
    "platform_name",
    "staff_state",
    "relay_answer_id",
    "staff_place",
]
