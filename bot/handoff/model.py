"""What a hand-off is, and what a platform must do for one (`Messenger`).

Plain frozen values, platform-neutral: where to reply to the member (`Handoff.reply_to`) and where the
staff post is (`StaffPost.ref`) are JSON objects only their own platform's adapter reads. A member on
Teams may be answered from a Slack staff channel and the reverse: the desk picks the messenger of the
member's platform to relay, and the messenger of the staff channel's platform for everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

HANDOFF_PLATFORM = "handoff"
"""The inbox flows' platform (their errors are counted under it)."""

HandoffState = Literal["open", "answered", "published"]
Sent = Literal["delivered", "refused", "unavailable"]
"""What a messenger did with a message: posted; the platform said no to it (not in the channel, the
conversation gone); or the platform is down or throttling after the client's retries (try again later)."""
Failure = Literal["refused", "unavailable"]

RELAY_ANSWER_PREFIX = "handoff:"
"""The answer id a relayed staff reply carries for 👍 / 👎 (`relay_answer_id`): votes on it are the team's."""


class HandoffError(Exception):
    """A hand-off that cannot be made; `reason` says why in a word (`disabled`, `unknown_answer`, `not_found`…)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class StaffPlace:
    """Where hand-offs go (`GUIDEBOT_STAFF_CHANNEL`): the platform, and its channel or conversation id."""

    platform: str
    place: str


def staff_place(setting: str | None) -> StaffPlace | None:
    """`slack:C0123` → StaffPlace("slack", "C0123"); None when unset."""
    if not setting:
        return None
    platform, _, place = setting.partition(":")
    if platform not in ("slack", "teams") or not place:
        raise ValueError(f"GUIDEBOT_STAFF_CHANNEL must be slack:<channel id> or teams:<conversation id>, not {setting!r}")
    return StaffPlace(platform, place)


@dataclass(frozen=True)
class StaffPost:
    """A hand-off's post in the staff place. `key` names it so that a staff reply finds its hand-off (Slack:
    `slack:<channel>:<ts>`); `ref` is what its messenger needs to update it or reply under it."""

    platform: str
    key: str
    ref: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StaffReply:
    """One reply from the program team: `key` names the staff message (a resend is the same reply), `who`
    is the replier's display name, `text` the reply as stored (cut and redacted like a question)."""

    key: str
    who: str
    text: str
    at: datetime


@dataclass(frozen=True)
class Handoff:
    """One member question handed to the program team."""

    id: str
    answer_id: str
    """The answer the member asked for help with: one hand-off per answer, whoever clicks, however often."""
    question: str
    """The member's question as the question log keeps it: redacted."""
    member_name: str
    """The member's display name, sent with their consent (the button says so)."""
    member_platform: str
    reply_to: Mapping[str, Any]
    """Where the member's conversation is, as the member's platform's adapter wrote it."""
    bot_answered: bool
    bot_said: str
    """What guidebot did with the question: the sections it quoted, or that the guide did not cover it."""
    state: HandoffState = "open"
    staff_post: StaffPost | None = None
    replies: tuple[StaffReply, ...] = ()
    reminded_at: datetime | None = None
    created_at: datetime | None = None
    published_title: str | None = None
    published_at: datetime | None = None

    @property
    def last_reply(self) -> StaffReply | None:
        return self.replies[-1] if self.replies else None


def relay_answer_id(handoff_id: str, number: int) -> str:
    """The answer id the `number`-th relayed reply of a hand-off carries (1-based)."""
    return f"{RELAY_ANSWER_PREFIX}{handoff_id}:{number}"


def is_relay_answer(answer_id: str) -> bool:
    return answer_id.startswith(RELAY_ANSWER_PREFIX)


class Messenger(Protocol):
    """What one platform does for hand-offs; an adapter registers one in `Guidebot.messengers[platform]`.

    Every method posts or updates one message and says how it went (`Sent`), never raising for the
    platform's own failures: "unavailable" leaves the durable work to be tried again, "refused" is told
    to the staff. Renderers behind it are the adapter's own; the texts' meaning is described here.
    """

    platform: str

    async def post_handoff(self, place: str, handoff: Handoff) -> StaffPost | Failure:
        """Post `handoff` in the staff `place`: the redacted question, the member's name and platform, what
        guidebot said, how to reply (and, where the platform has buttons, "Add to the guide")."""
        ...

    async def relay(self, handoff: Handoff, reply: StaffReply, *, number: int) -> Sent:
        """Post `reply` in the member's conversation (`handoff.reply_to`) as "From the program team:" with
        the replier's name (a follow-up from `number` 2 on), with 👍 / 👎 carrying `relay_answer_id`."""
        ...

    async def show_state(self, handoff: Handoff) -> Sent:
        """Update the staff post to `handoff`'s state: "Answered by <who> at <time>", or published."""
        ...

    async def notify(self, handoff: Handoff, text: str) -> Sent:
        """Post `text` (plain, already worded) in the staff place beside the hand-off's post (Slack: in its
        thread): a reminder, or that a reply could not be delivered."""
        ...


PLATFORM_NAMES = {"slack": "Slack", "teams": "Microsoft Teams", "console": "the web console", "cli": "the command line"}
"""How a staff post names the platform a member asked on, whichever platform the staff work in."""


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "an unknown time"


def staff_state(handoff: Handoff, how_to_reply: str) -> str:
    """The staff post's last line: open and how to reply (in the staff platform's words), answered
    (who, when) or published. The same words on Slack and Teams."""
    if handoff.state == "published":
        return f"Added to the guide as “{handoff.published_title or handoff.question}” on {_when(handoff.published_at)}."
    reply = handoff.last_reply
    if reply is None:
        return f"Open. {how_to_reply}"
    more = f" ({len(handoff.replies)} replies)" if len(handoff.replies) > 1 else ""
    return f"Answered by {reply.who} at {_when(reply.at)}{more}. Reply again to send a follow-up; “Add to the guide” publishes the reply."
