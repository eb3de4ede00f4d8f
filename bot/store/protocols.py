"""What each part of guidebot needs of the state store, one small protocol per use.

A caller that only leases work (an inbox) or only reads the question log (the report) can ask
for just that, and a test can hand it a fake of that much. `StateStore` is all of them together,
the shape of `SqlStore`, for the places that own the whole store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.handoff.model import Handoff, StaffPost, StaffReply

from bot.store.records import AnswerRecord, ClaimResult, FeedbackRecord, FeedbackTotal, ThreadContext, UnfinishedWork


class Leases(Protocol):
    """Claims that make a platform's retries harmless, and leases that make a replica's death harmless."""

    def claim(self, key: str, ttl_seconds: int = 86400) -> bool: ...

    def claim_work(self, key: str, *, lease_seconds: int, work: str | None = None) -> ClaimResult: ...

    async def claim_work_async(self, key: str, *, lease_seconds: int, work: str | None = None) -> ClaimResult: ...

    def complete(self, key: str, ttl_seconds: int = 86400) -> None: ...

    def unfinished(self, prefix: str, limit: int = 100) -> list[UnfinishedWork]: ...


class QuestionLog(Protocol):
    """What was asked and how the bot fared, kept for the retention period."""

    def save_answer(self, record: AnswerRecord) -> None: ...

    def questions(self, since: datetime | None = None) -> list[AnswerRecord]: ...

    def answer(self, answer_id: str) -> AnswerRecord | None: ...

    def purge(self, older_than: datetime) -> int: ...


class Feedback(Protocol):
    """Members' 👍 / 👎 on answers, and the daily counts left of them once purged."""

    def record_feedback(
        self, answer_id: str, user_id: str, platform: str, value: str, comment: str | None = None
    ) -> None: ...

    def feedback_for(self, answer_id: str) -> list[FeedbackRecord]: ...

    def feedback(self, since: datetime | None = None) -> list[FeedbackRecord]: ...

    def feedback_totals(self, since: datetime | None = None) -> list[FeedbackTotal]: ...


class Conversations(Protocol):
    """Who is talking and what came before: a member's stored id, a thread's earlier question, and
    which answer a message the bot sent carries (so a vote on that message finds its answer)."""

    def member_hash(self, platform: str, user_id: str) -> str: ...

    def set_thread(self, thread_key: str, question: str, answer_id: str) -> None: ...

    def get_thread(self, thread_key: str) -> ThreadContext | None: ...

    def link_message(self, message_key: str, answer_id: str) -> None: ...

    def answer_for_message(self, message_key: str) -> str | None: ...


class Handoffs(Protocol):
    """Members' questions handed to the program team, their staff posts and the team's replies."""

    def open_handoff(self, handoff: Handoff) -> tuple[Handoff, bool]: ...

    def set_staff_post(self, handoff_id: str, post: StaffPost) -> None: ...

    def add_handoff_reply(self, handoff_id: str, reply: StaffReply) -> tuple[Handoff, int] | None: ...

    def mark_reminded(self, handoff_id: str) -> bool: ...

    def mark_published(self, handoff_id: str, title: str) -> None: ...

    def handoff(self, handoff_id: str) -> Handoff | None: ...

    def handoff_for_answer(self, answer_id: str) -> Handoff | None: ...

    def handoff_for_post(self, staff_post_key: str) -> Handoff | None: ...

    def handoffs(self, *, open_only: bool = False) -> list[Handoff]: ...

    def handoffs_to_remind(self, opened_before: datetime) -> list[Handoff]: ...

    def handoffs_unposted(self, opened_before: datetime) -> list[Handoff]: ...


class StateStore(Leases, QuestionLog, Feedback, Conversations, Handoffs, Protocol):
    """The whole store: every use above, plus readiness and shutdown."""

    def ping(self) -> bool: ...

    def close(self) -> None: ...
