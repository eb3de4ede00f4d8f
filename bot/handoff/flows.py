"""The hand-off's durable work, as inbox flows (`bot.inbox.Flow`): posting a hand-off to the staff place,
relaying a staff reply to the member, and reminding the staff of a hand-off left open.

Each is leased before it is acknowledged or started, completed once done, and re-run by the inbox's
recovery when its replica stopped or the platform would not take the message: never lost, never done
twice by two replicas. What a lease holds is small: the hand-off's id (its row holds the rest), and for
a relay the staff message's key, the replier's name and the reply as the inbox stores it (cut, redacted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.handoff.model import HANDOFF_PLATFORM
from bot.inbox import CallbackFlow

LEASE_SECONDS = 120
"""Longer than one post or update can take with the platform clients' retries."""

W = TypeVar("W")


@dataclass(frozen=True)
class Relay:
    """A staff reply to relay: which hand-off, which staff message (`key`), who wrote it, what and when."""

    handoff_id: str
    key: str
    who: str
    text: str
    at: datetime


class _HandoffFlow(CallbackFlow[W]):
    platform = HANDOFF_PLATFORM
    lease = LEASE_SECONDS


class _ByIdFlow(_HandoffFlow[str]):
    """Work that needs only the hand-off's id."""

    kind: str

    def key(self, handoff_id: str) -> str:
        return f"{self.prefix}{handoff_id}"

    def dumps(self, event: str, *, text: str, member: str | None) -> str:
        return json.dumps({"kind": self.kind, "id": event})

    def loads(self, key: str, work: str) -> str:
        data = json.loads(work)
        if data["kind"] != self.kind or not isinstance(data["id"], str):
            raise ValueError(data["kind"])
        return str(data["id"])


class PostFlow(_ByIdFlow):
    """Post a hand-off in the staff place (once: a post already made is not made again)."""

    prefix = "handoff:post:"
    kind = "handoff_post"


class RemindFlow(_ByIdFlow):
    """Remind the staff, once, of a hand-off open longer than `GUIDEBOT_HANDOFF_REMIND_HOURS`."""

    prefix = "handoff:remind:"
    kind = "handoff_remind"


class RelayFlow(_HandoffFlow[Relay]):
    """Relay one staff reply to the member; the staff message's key names the work, so a resent event,
    a retry or another replica relays it once."""

    prefix = "handoff:relay:"

    def key(self, reply_key: str) -> str:
        return f"{self.prefix}{reply_key}"

    def dumps(self, event: Relay, *, text: str, member: str | None) -> str:
        """`event.text` is the reply as `bot.handoff.desk.staff_text` keeps it (patient identifiers redacted, the
        program's contacts kept); the inbox's `text` (a member's words, redacted whole) is not used."""
        work = {"kind": "handoff_relay", "id": event.handoff_id, "key": event.key, "who": event.who, "text": event.text, "at": event.at.isoformat()}
        return json.dumps(work, ensure_ascii=False)

    def loads(self, key: str, work: str) -> Relay:
        data = json.loads(work)
        if data["kind"] != "handoff_relay":
            raise ValueError(data["kind"])
        fields = (data["id"], data["key"], data["who"], data["text"], data["at"])
        if not all(isinstance(f, str) for f in fields):
            raise TypeError("a stored relay with a field of the wrong type")
        return Relay(data["id"], data["key"], data["who"], data["text"], datetime.fromisoformat(data["at"]))
