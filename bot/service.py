"""The one core call every adapter makes: a member's message in, a `Reply` out.

Adapters (Slack, Teams, the web console, the CLI) translate their platform's
event into an `Inbound` and the `Reply` into their platform's format; all the
behaviour (privacy guard, commands, follow-ups, answering, the question log)
lives here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.answer import Answer, Reply, Summary, new_answer_id
from bot.batching import AnswerBatcher
from bot.commands import parse_command
from bot.embedding import load_embedder
from bot.engine import AnswerEngine
from bot.handoff.desk import HandoffDesk
from bot.handoff.model import Messenger
from bot.inbox import Inbox
from bot.metrics import ANSWER_SECONDS, ERRORS, FEEDBACK, FEEDBACK_UNATTRIBUTED, INDEX_RELOADS, QUESTIONS
from bot.privacy import looks_like_phi, redact
from bot.settings import Settings
from bot.staff import StaffDesk
from bot.staff.guide import GuideDesk
from bot.store import AnswerRecord, StateStore
from bot.summaries import summarize
from index.embedder import Embedder
from index.guide_index import GuideIndex, load_index
from index.persist import MANIFEST, live_target

log = logging.getLogger(__name__)

PHI_MESSAGE = (
    "It looks like your message may contain patient information (a name, record number, date of birth, "
    "phone number or e-mail). Please don't share patient details here: ask your question without them."
)
BOOKKEEPING_THREADS = 4
"""Threads for `respond_async`'s database work before and after the model (see `Guidebot.respond_async`)."""
_FOLLOW_UP = re.compile(r"^(and|also|what about|how about|same for|what of|or)\b", re.IGNORECASE)
FOLLOW_UP_MAX_WORDS = 3
UNATTRIBUTED_PREFIX = "unattributed:"
"""The answer id of a vote stored without its answer (`Guidebot.record_unattributed_feedback`)."""



@dataclass(frozen=True)
class _Asked:
    """A message that needs the model: what the member typed, and the question answered (a
    follow-up joined to its thread's earlier question)."""

    text: str
    question: str


@dataclass(frozen=True)
class Inbound:
    """A member's message as the core sees it, whatever the platform."""

    text: str
    platform: str
    user_id: str | None = None
    conversation_id: str | None = None
    thread_key: str | None = None
    member_hash: str | None = None
    """The member as the store hashes them (`store.member_hash`), when that is all the adapter kept (a question
    recovered from its lease); else the hash is made from `user_id`."""


class EngineHolder:
    """Holds the live index and swaps in a rebuilt one without a failed request.

    `guidebot index` publishes a new build by swapping a symlink; `refresh`
    notices the change and loads the new build beside the old one before
    switching, so requests in flight finish on the index they started with.
    This is the one reload: the serving runtime calls `refresh` on its poll and
    on SIGHUP, off the requests' path. Without a runtime, `check_every` seconds
    lets `engine()` itself refresh at most that often (`None`: never; the first
    call always loads). `engine` serves an engine already loaded instead.
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        check_every: float | None = None,
        *,
        engine: AnswerEngine | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._check_every = check_every
        self._lock = threading.Lock()
        self._engine: AnswerEngine | None = engine
        self._loaded_from: tuple[Path, float] | None = None
        self._next_check = 0.0

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings)
        return self._embedder

    def _published(self) -> tuple[Path, float] | None:
        """The published build and its manifest's time, or None while nothing is published."""
        try:
            target = live_target(self.settings.index_dir)
            return target, (target / MANIFEST).stat().st_mtime
        except OSError:
            return None

    def engine(self) -> AnswerEngine:
        """The live engine: the first call loads the index (`IndexMissingError` when there is none)."""
        engine = self._engine
        due = self._check_every is not None and time.monotonic() >= self._next_check
        if engine is not None and not due:
            return engine
        with self._lock:
            if self._engine is None:
                self._load(self._published())
            elif due:
                self._refresh()
            assert self._engine is not None
            return self._engine

    def refresh(self) -> bool:
        """Load the published index if it is not the one being served: True when a new one is now live."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> bool:
        self._next_check = time.monotonic() + (self._check_every or 0.0)
        published = self._published()
        if published is None or (self._engine is not None and published == self._loaded_from):
            return False
        self._load(published)
        return True

    def _load(self, published: tuple[Path, float] | None) -> None:
        index = load_index(self.settings.index_dir, expected_model=self.embedder.name)
        if self._engine is not None:
            INDEX_RELOADS.inc()
            log.info("index reloaded", extra={"index": str(index.path)})
        self._engine = AnswerEngine(index, self.embedder, top_k=self.settings.top_k, max_chars=self.settings.max_question_chars)
        self._loaded_from = published

    @property
    def index(self) -> GuideIndex:
        return self.engine().index


class Guidebot:
    """The core: owns its answer batcher, its bookkeeping threads and its store, and `close()` closes them."""

    def __init__(self, settings: Settings, engines: EngineHolder, store: StateStore) -> None:
        self.settings = settings
        self.engines = engines
        self.store = store
        self.inbox = Inbox(store, settings, store.member_hash)
        self.messengers: dict[str, Messenger] = {}
        """Each adapter's hand-off `Messenger`, by platform, registered in its `mount`."""
        self.handoffs = HandoffDesk(store, self.inbox, settings, self.messengers)
        self.staff = StaffDesk(store, settings)
        """Program staff on the web dashboard: invites, sessions, the audit log, the overview."""
        self.guide = GuideDesk(settings, engines, store, self.staff.record)
        """The dashboard's Guide page: the documents, and previewing, publishing and rolling back a change."""
        self.batcher = AnswerBatcher(engines.engine, niceness=settings.answer_worker_niceness)
        self._bookkeeping = ThreadPoolExecutor(max_workers=BOOKKEEPING_THREADS, thread_name_prefix="guidebot-bookkeeping")

    def close(self) -> None:
        """Answer what is queued, then stop the batcher's and the bookkeeping's threads and close the store.

        Blocking (threads are joined): call it off the event loop. A second call does nothing more.
        """
        self.batcher.close()
        self._bookkeeping.shutdown(wait=True)
        self.store.close()

    def respond(self, inbound: Inbound, answer: Callable[[str], Answer] | None = None) -> Reply:
        started = time.perf_counter()
        try:
            step = self._prepare(inbound)
            if isinstance(step, _Asked):
                step = self._finish(inbound, step, (answer or self.engines.engine().answer)(step.question))
        except Exception:  # counted as the core's error whatever it is, then raised on unchanged
            ERRORS.labels("core").inc()
            raise
        ANSWER_SECONDS.labels(inbound.platform).observe(time.perf_counter() - started)
        return step

    async def respond_async(self, inbound: Inbound) -> Reply:
        """For adapters on the event loop: the model and the database run off the loop, and
        concurrent questions are answered together, one encode call per batch (`bot.batching`).

        No thread waits for the batch (the loop awaits it), and the database work before and
        after it (the thread's earlier question, the question log) runs on a few threads of its
        own: the database takes one transaction at a time, so under load these calls wait there,
        and on the default executor they would hold every thread while a Slack ack's lease waited
        for one.
        """
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            step = await loop.run_in_executor(self._bookkeeping, self._prepare, inbound)
            if isinstance(step, _Asked):
                answer = await asyncio.wrap_future(self.batcher.submit(step.question))
                step = await loop.run_in_executor(self._bookkeeping, self._finish, inbound, step, answer)
        except Exception:  # counted as the core's error whatever it is, then raised on unchanged
            ERRORS.labels("core").inc()
            raise
        ANSWER_SECONDS.labels(inbound.platform).observe(time.perf_counter() - started)
        return step

    def _prepare(self, inbound: Inbound) -> Reply | _Asked:
        """Everything before the model: the privacy guard, commands, a follow-up's earlier question."""
        text = inbound.text or ""
        limit = self.settings.max_question_chars
        if looks_like_phi(text, limit):
            answer = Answer(question="", abstained=True, reason="phi", message=PHI_MESSAGE, answer_id=new_answer_id())
            self._log(inbound, answer, redact(text, limit))
            return answer
        command = parse_command(text)
        if command is not None:
            QUESTIONS.labels(inbound.platform, f"command:{command.name}").inc()
            return summarize(command, self.engines.engine().index)
        if inbound.thread_key and _is_follow_up(text):
            previous = self.store.get_thread(inbound.thread_key)
            if previous:
                return _Asked(text, f"{previous.question} {text}")
        return _Asked(text, text)

    def _finish(self, inbound: Inbound, asked: _Asked, answer: Answer) -> Answer:
        """Everything after the model: the question log and the thread's context."""
        if asked.question != asked.text:
            answer = replace(answer, question=asked.text.strip())
        redacted = redact(asked.question, self.settings.max_question_chars)
        self._log(inbound, answer, redacted)
        if inbound.thread_key and answer.answered:
            self.store.set_thread(inbound.thread_key, redacted, answer.answer_id)
        return answer

    def _log(self, inbound: Inbound, answer: Answer, redacted_question: str) -> None:
        outcome = "answered" if answer.answered else f"abstained:{answer.reason}"
        QUESTIONS.labels(inbound.platform, outcome).inc()
        if answer.reason == "empty":
            return
        self.store.save_answer(
            AnswerRecord(
                answer_id=answer.answer_id,
                platform=inbound.platform,
                question=redacted_question,
                answered=answer.answered,
                reason=answer.reason,
                sections=tuple(p.source.label for p in answer.passages),
                confidence=answer.confidence,
                user_hash=inbound.member_hash or (self.store.member_hash(inbound.platform, inbound.user_id) if inbound.user_id else None),
                conversation_id=inbound.conversation_id,
            )
        )

    def record_feedback(self, answer_id: str, user_id: str, platform: str, value: str, comment: str | None = None) -> None:
        if value not in ("up", "down"):
            raise ValueError(f"feedback must be 'up' or 'down', not {value!r}")
        clean_comment = redact(comment, self.settings.max_question_chars) if comment else None
        self.store.record_feedback(answer_id, user_id, platform, value, clean_comment)
        FEEDBACK.labels(platform, value).inc()

    def record_feedback_if_given(self, answer_id: str, user_id: str, platform: str, value: str, comment: str | None = None) -> bool:
        """Record the vote only if this member was given the answer (the question log says who was), so
        nobody can vote on another member's answer by its id. True when recorded. Blocking: the database."""
        given = self.store.answer(answer_id)
        if given is None or given.platform != platform or given.user_hash != self.store.member_hash(platform, user_id):
            return False
        self.record_feedback(answer_id, user_id, platform, value, comment)
        return True

    def record_unattributed_feedback(self, ref: str, user_id: str, platform: str, value: str, comment: str | None = None) -> str:
        """A vote whose answer the platform did not identify for certain: stored under an id of its
        own (`UNATTRIBUTED_PREFIX` and a digest of the platform's `ref` for the vote, so a resent vote
        is stored once), never guessed onto an answer; counted. Returns that id."""
        answer_id = UNATTRIBUTED_PREFIX + hashlib.sha256(f"{platform}:{ref}".encode()).hexdigest()[:16]
        self.record_feedback(answer_id, user_id, platform, value, comment)
        FEEDBACK_UNATTRIBUTED.labels(platform, value).inc()
        return answer_id

    def knows_thread(self, thread_key: str) -> bool:
        """Whether guidebot answered in this thread before (a follow-up there is for it). Blocking: the database."""
        return self.store.get_thread(thread_key) is not None

    def knows_answer(self, answer_id: str) -> bool:
        """Whether the question log holds this answer (a vote must name an answer that was given)."""
        return self.store.answer(answer_id) is not None

    def link_message(self, message_key: str, answer_id: str) -> None:
        """File that the message sent under `message_key` carries `answer_id`, so a vote that points at
        that message (Teams' `replyToId`) is stored against its answer. Blocking: the database."""
        self.store.link_message(message_key, answer_id)

    def answer_for_message(self, message_key: str) -> str | None:
        """The answer the message sent under `message_key` carries, or None. Blocking: the database."""
        return self.store.answer_for_message(message_key)

    def remember_conversation(self, platform: str, conversation_id: str, ref: dict[str, Any]) -> None:
        """Keep where `platform` lets the bot post unprompted in `conversation_id` (a Teams channel's service
        URL, tenant and bot id: what its adapter needs to post a hand-off there). Blocking: the database."""
        self.store.remember_conversation(f"{platform}:{conversation_id}", ref)

    def conversation_ref(self, platform: str, conversation_id: str) -> dict[str, Any] | None:
        """What `remember_conversation` kept for that conversation, or None. Blocking: the database."""
        return self.store.conversation_ref(f"{platform}:{conversation_id}")

    def summary_for(self, text: str) -> Summary | None:
        command = parse_command(text)
        return summarize(command, self.engines.index) if command else None


def _is_follow_up(text: str) -> bool:
    """ "and the MHA?" or "MHA?" lean on the thread's earlier question; a full question does not."""
    stripped = text.strip()
    return bool(_FOLLOW_UP.match(stripped)) or len(stripped.split()) <= FOLLOW_UP_MAX_WORDS
