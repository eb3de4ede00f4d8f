"""What a Slack question or `/guide` command is, and how the inbox stores and reads it back.

A stored question or command holds what answering it again needs and no more:
the channel, timestamps, event or trigger id and response URL; the member only
as the hash and the text only as the inbox gives them (`bot.inbox`: cut and
redacted), never the member's Slack id or their words as typed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

PLATFORM = "slack"


@dataclass(frozen=True)
class Question:
    """A member's message that guidebot should answer, as this adapter understands it."""

    event_id: str
    team: str
    channel: str
    ts: str
    user: str
    text: str
    reply_thread_ts: str | None
    """Where the answer goes: a thread under the question, or None for the DM itself."""
    thread_key: str
    """The core's key for the conversation's earlier question (follow-ups)."""
    assistant_thread: bool = False
    """A DM thread, as the assistant surface makes them: show a status while answering."""
    known_thread_only: bool = False
    """An unmentioned message in a channel thread: answer only in threads guidebot answered in."""
    user_is_hash: bool = False
    """`user` is the member's hash (a question read back from its lease), not a Slack id to write to."""
    recoveries: int = 0
    """How many times recovery took this question up before (after a stopped replica or an undeliverable answer)."""

    @property
    def inbound_member(self) -> dict[str, str | None]:
        """The member for the core's `Inbound`: the Slack id, or the hash a lease kept."""
        return {"user_id": None, "member_hash": self.user} if self.user_is_hash else {"user_id": self.user, "member_hash": None}

    @property
    def slack_user(self) -> str | None:
        return None if self.user_is_hash else self.user

    @property
    def key(self) -> str:
        """The message's lease: a retry or replay of its event, and the `message` event beside an
        `app_mention`, all name the same channel and ts."""
        return f"slack:message:{self.channel}:{self.ts}"


@dataclass(frozen=True)
class Command:
    """A `/guide` command to answer through its response URL."""

    ref: str
    """The trigger id: the command's lease and its reference in the logs."""
    text: str
    channel: str | None
    response_url: str
    user: str | None = None
    """The member's Slack id, while the command is answered from its request; never stored."""
    member: str | None = None
    """The member's hash, as a command read back from its lease has it."""

    @property
    def key(self) -> str:
        return f"slack:command:{self.ref}"


def dump_question(q: Question, *, text: str, member: str | None) -> str:
    stored = replace(q, user=member or "", user_is_hash=True, text=text)
    return json.dumps({"kind": "message", "question": asdict(stored)}, ensure_ascii=False)


def recovered_again(work: str) -> str:
    """The stored question with one more recovery counted (work that is not a stored question, unchanged:
    `load_question` says what is wrong with it once the inbox holds it)."""
    try:
        data = json.loads(work)
        question = data["question"]
        question["recoveries"] = int(question.get("recoveries", 0)) + 1
    except (ValueError, KeyError, TypeError):
        return work
    return json.dumps(data, ensure_ascii=False)


def load_question(work: str) -> Question:
    """ValueError, KeyError or TypeError for anything but a stored question."""
    data = json.loads(work)
    if data["kind"] != "message":
        raise ValueError(data["kind"])
    q = Question(**data["question"])
    if not all(isinstance(v, str) for v in (q.event_id, q.team, q.channel, q.ts, q.user, q.text, q.thread_key)):
        raise TypeError("a stored question with a field of the wrong type")
    return q


def dump_command(c: Command, *, text: str, member: str | None) -> str:
    work = {"kind": "command", "ref": c.ref, "text": text, "member": member, "channel": c.channel, "response_url": c.response_url}
    return json.dumps(work, ensure_ascii=False)


def load_command(work: str) -> Command:
    """ValueError, KeyError or TypeError for anything but a stored command."""
    data = json.loads(work)
    if data["kind"] != "command":
        raise ValueError(data["kind"])
    ref, text, url, member, channel = data["ref"], data["text"], data["response_url"], data.get("member"), data.get("channel")
    if not (isinstance(ref, str) and isinstance(text, str) and isinstance(url, str)):
        raise TypeError("a stored command with a field of the wrong type")
    if not (member is None or isinstance(member, str)) or not (channel is None or isinstance(channel, str)):
        raise TypeError("a stored command with a field of the wrong type")
    return Command(ref=ref, text=text, channel=channel, response_url=url, member=member)
