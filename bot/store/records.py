"""The values the state store takes and gives back, and how text and ids are made fit to keep.

Plain frozen dataclasses, so callers (the service, the report, the adapters) depend on these
and never on SQLAlchemy rows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Literal

from bot.settings import Settings

FEEDBACK_VALUES = ("up", "down")
NO_SECTION = ""
"""The section recorded for feedback on an answer that quoted no section (an abstention)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


DEFAULT_MAX_TEXT_CHARS: int = Settings.model_fields["max_question_chars"].default
"""The most characters of a question, thread question or comment the store keeps (GUIDEBOT_MAX_QUESTION_CHARS)."""

_TERMINAL_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b\x9c\n]{0,4096}(?:\x07|\x1b\\|\x9c)?"  # OSC (window title, hyperlinks, clipboard)
    r"|(?:\x1b\[|\x9b)[0-?]{0,64}[ -/]{0,16}[@-~]?"  # CSI (clear screen, move the cursor, colours)
    r"|\x1b[ -~]?"  # any other escape
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls but tab and newline, DEL, and the bidirectional overrides that make text read
other than it is stored."""


def without_controls(text: str) -> str:
    """`text` without terminal escape sequences and control characters (they would act on the terminal of
    whoever reads `guidebot report`), line ends made `\\n`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _TERMINAL_SEQUENCE.sub("", text))


def stored_text(text: str, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> str:
    """`text` as the store keeps it: `without_controls`, cut to `max_chars`, the most the bot reads of a message."""
    return without_controls(text)[:max_chars]


def hash_user(platform: str, user_id: str, key: bytes) -> str:
    """The only form in which a member's id is stored: members are physicians.

    Keyed (HMAC-SHA256), because a plain digest of an id is no disguise: anyone
    who can list a workspace's members could hash every id and match them.
    """
    return hmac.new(key, f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AnswerRecord:
    """One line of the question log: what was asked and how the bot fared."""

    answer_id: str
    platform: str
    question: str
    answered: bool
    reason: str | None
    sections: tuple[str, ...]
    confidence: float
    user_hash: str | None
    conversation_id: str | None
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))


@dataclass(frozen=True)
class FeedbackRecord:
    """A member's current 👍/👎 on an answer, with the sections that answer quoted."""

    answer_id: str
    user_hash: str
    platform: str
    value: str
    comment: str | None
    created_at: datetime
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedbackTotal:
    """Feedback that `purge` removed, kept as a count so reports still see it."""

    day: date
    platform: str
    section: str
    value: str
    count: int


ClaimResult = Literal["won", "done", "busy"]
"""What `claim_work` found: the key is now the caller's (`won`), its work was completed
(`done`), or another caller holds its lease (`busy`: working on it, or died less than a
lease ago)."""


@dataclass(frozen=True)
class UnfinishedWork:
    """Work a replica claimed and never completed (it died): the key and what to redo it from."""

    key: str
    work: str
    lease_expired_at: datetime


@dataclass(frozen=True)
class ThreadContext:
    """The question asked earlier in a thread, so "and the MHA?" can be understood."""

    question: str
    answer_id: str
    updated_at: datetime
