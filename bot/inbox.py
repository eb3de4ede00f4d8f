"""The transactional inbox: work is recorded before it is acknowledged, handled once, marked done, and re-run
by a sweeper when its lease lapses.

Slack never resends an event it had a 200 for, and Teams resends one only until
it had its 200, so an acknowledged question must already be in the database,
with what is needed to answer it, before the ack. The protocol is the same for
every platform and every kind of work, so it lives here once:

1. `accept(flow, key, event, text=…, user_id=…)` leases `key` (`claim_work`)
   with the event as the flow serialises it. The member's words are cut to
   `max_question_chars` and redacted when they look like patient details, and
   the member's id is replaced by its keyed hash, *here*, before anything is
   written: a flow never sees a chance to store them as typed. False when the
   key is already leased or done (a resend, a replay, another replica).
2. The caller acknowledges, then `run(flow, key, handler)`: the handler
   answers and delivers; `Outcome.DONE` completes the lease, `Outcome.LATER`
   (the platform would not take the reply for now) leaves it to lapse, and so
   does a handler that raises or is cancelled (the process stopping).
3. `recover_forever(flows, spawn)` (every replica, at start-up and then every
   so often) finds leases that lapsed unfinished (`unfinished`), takes each
   with `claim_work` so that two replicas recovering at once take it once, and
   re-runs it through the flow's `handle`. Work a flow cannot read back (an
   older version's, a damaged row) is completed and counted, never retried
   forever, and never stops the sweeper.

A flow supplies only its key prefix, how its event is written and read back,
and how read-back work is handled; a new kind of durable work (a hand-off, a
relay, a reminder) is a new `Flow`, not a new copy of this protocol.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from prometheus_client import Counter

from bot.metrics import ERRORS, REGISTRY
from bot.privacy import looks_like_phi, redact
from bot.settings import Settings
from bot.store import Leases

log = logging.getLogger(__name__)

DONE_TTL_SECONDS = 86_400
"""How long a completed key keeps turning resends and replays away (platforms retry within minutes)."""
RECOVER_BATCH = 50
"""Lapsed leases taken per flow and round: a backlog is worked through over a few rounds, not all at once."""

UNREADABLE = Counter(
    "guidebot_inbox_unreadable",
    "Lapsed work the inbox could not read back (an older version's format, a damaged row): completed, not retried",
    ["flow"],
    registry=REGISTRY,
)

E = TypeVar("E")
Spawn = Callable[[Coroutine[Any, Any, None]], object]
"""Starts a coroutine in the background (an adapter's `Background.spawn`, whose tasks stop with the server)."""


class Outcome(enum.Enum):
    """What a handler did with its work."""

    DONE = "done"
    """Delivered, or told the member it failed, or decided there is nothing to send: complete the lease."""
    LATER = "later"
    """The platform would not take the reply for now: leave the lease to lapse, so recovery tries again."""


class Flow(ABC, Generic[E]):
    """One kind of durable work: where its keys live, how its event is stored and read back, how it is handled."""

    prefix: str
    """Every key of this flow starts with it (`slack:message:`); recovery looks for lapsed work under it."""
    platform: str
    """The platform whose member ids the inbox hashes for this flow (`slack`, `teams`)."""

    @property
    @abstractmethod
    def lease_seconds(self) -> int:
        """Longer than handling can take, the platform's rate-limit waits and retries included
        (`GUIDEBOT_WORK_LEASE_SECONDS` overrides it): a lease that lapses mid-work lets a second replica do it too."""

    @abstractmethod
    def dumps(self, event: E, *, text: str, member: str | None) -> str:
        """`event` as the database keeps it, with `text` (cut and redacted) and `member` (hashed) in place of the
        member's own words and id."""

    @abstractmethod
    def loads(self, key: str, work: str) -> E:
        """The event stored under `key`; ValueError, KeyError or TypeError when it is not work this version wrote."""

    @abstractmethod
    async def handle(self, key: str, event: E) -> Outcome:
        """Answer and deliver work read back from the database after its lease lapsed (its replica stopped, or
        the platform would not take the reply): the member's words are the redacted ones, the member a hash."""

    def next_attempt(self, work: str) -> str:
        """The stored work for one more recovery: a flow that limits its attempts counts them in it."""
        return work

    def unreadable(self, key: str) -> None:
        """Told after the inbox completed unreadable work of this flow (already logged and counted)."""


class CallbackFlow(Flow[E]):
    """A flow whose recovered work is handled by a callable given at construction (a listener's or the
    hand-off desk's method), with a fixed lease: what Slack's flows and the hand-off flows have in common."""

    lease: int

    def __init__(self, handle: Callable[[E], Awaitable[Outcome]]) -> None:
        self._handle = handle

    @property
    def lease_seconds(self) -> int:
        return self.lease

    async def handle(self, key: str, event: E) -> Outcome:
        return await self._handle(event)


def storable_text(text: object, max_chars: int) -> str:
    """The member's words as the database may keep them: cut first (the guard's time grows with the text), then
    redacted when they look like patient details. Runs the privacy guard: call it from a worker thread."""
    cut = text[:max_chars] if isinstance(text, str) else ""
    return redact(cut) if looks_like_phi(cut) else cut


class Inbox:
    """Durable work for every flow of one process; `Guidebot.inbox`."""

    def __init__(self, store: Leases, settings: Settings, member_hash: Callable[[str, str], str]) -> None:
        """`member_hash(platform, user_id)`: the store's keyed hash of a member id (`StateStore.member_hash`)."""
        self.store = store
        self.member_hash = member_hash
        self.max_text_chars = settings.max_question_chars
        self.lease_override = settings.work_lease_seconds
        self.recover_every_seconds = settings.inbox_recover_every_seconds
        self._in_flight: set[str] = set()
        self._completed_early: set[str] = set()

    def lease_for(self, flow: Flow[Any]) -> int:
        return self.lease_override or flow.lease_seconds

    # ------------------------------------------------------------ accepting

    def _stored(self, flow: Flow[E], event: E, text: object, user_id: str | None) -> str:
        member = self.member_hash(flow.platform, user_id) if user_id else None
        return flow.dumps(event, text=storable_text(text, self.max_text_chars), member=member)

    async def accept(self, flow: Flow[E], key: str, event: E, *, text: object, user_id: str | None) -> bool:
        """Record `event` under `key` and lease it: True when this caller must now handle it (`run`).

        `text` and `user_id` are the member's words and platform id as sent; they are stored redacted and hashed
        (on a worker thread: the guard must not hold the event loop). Raises what the store raises: the caller
        must not acknowledge work nothing will handle.
        """
        work = await asyncio.to_thread(self._stored, flow, event, text, user_id)
        return await self.store.claim_work_async(key, lease_seconds=self.lease_for(flow), work=work) == "won"

    async def claim_once(self, key: str, ttl_seconds: int) -> bool:
        """Take `key` for good (for `ttl_seconds`): True the first time, on any replica. For what needs no
        recovery, only no repeat: a platform's duplicate event, a welcome sent once."""
        return await asyncio.to_thread(self.store.claim, key, ttl_seconds)

    # ------------------------------------------------------------ handling

    async def run(self, flow: Flow[Any], key: str, handler: Callable[[], Awaitable[Outcome]]) -> None:
        """Handle leased work and complete it when the handler is done with it.

        A handler that returns `Outcome.LATER`, raises or is cancelled leaves the lease to lapse: recovery
        (on this replica or another) runs the work again. While it runs here, this replica's recovery leaves
        the key alone, even past its lease (an answer queued behind many others for the encoder).
        """
        self._in_flight.add(key)
        try:
            try:
                outcome = await handler()
            except Exception:  # the work's last boundary: counted and logged; its lease lapses and recovery re-runs it
                ERRORS.labels(flow.platform).inc()
                log.exception("inbox: %s failed; it is left for recovery", key, extra={"work_key": key})
                return
            if outcome is Outcome.LATER:
                return
            if key not in self._completed_early:
                await self._complete(flow, key)
        finally:
            self._in_flight.discard(key)
            self._completed_early.discard(key)

    def complete_now(self, key: str) -> None:
        """Complete `key` at once, from a worker thread: a handler calls it the moment its reply is delivered,
        before its own bookkeeping, so that a crash just after the delivery leaves the smallest window for
        recovery to deliver it a second time. Raises what the store raises."""
        self.store.complete(key, DONE_TTL_SECONDS)
        if key in self._in_flight:
            self._completed_early.add(key)

    async def _complete(self, flow: Flow[Any], key: str) -> None:
        try:
            await asyncio.to_thread(self.store.complete, key, DONE_TTL_SECONDS)
        except Exception:  # counted and logged: the lease lapses and the work is done again
            ERRORS.labels(flow.platform).inc()
            log.exception("inbox: could not mark %s done", key, extra={"work_key": key})

    # ------------------------------------------------------------ recovering

    async def recover_once(self, flow: Flow[Any], spawn: Spawn) -> int:
        """Take over `flow`'s work whose lease lapsed unfinished and start it with `spawn`; return how many."""
        lease_seconds = self.lease_for(flow)
        items = await asyncio.to_thread(self.store.unfinished, flow.prefix, RECOVER_BATCH)
        taken = 0
        for item in items:
            if item.key in self._in_flight:
                continue  # ours, still running past its lease
            again = flow.next_attempt(item.work)
            if await asyncio.to_thread(self.store.claim_work, item.key, lease_seconds=lease_seconds, work=again) != "won":
                continue  # another replica took it first
            try:
                event = flow.loads(item.key, item.work)
            except (ValueError, KeyError, TypeError):
                UNREADABLE.labels(flow.prefix).inc()
                log.error("inbox: dropped unreadable unfinished work %s", item.key, extra={"work_key": item.key})
                flow.unreadable(item.key)
                await self._complete(flow, item.key)
                continue
            spawn(self.run(flow, item.key, partial(flow.handle, item.key, event)))
            taken += 1
        return taken

    async def recover_forever(self, flows: Sequence[Flow[Any]], spawn: Spawn) -> None:
        """Recover `flows`' lapsed work at start-up, then every `GUIDEBOT_INBOX_RECOVER_EVERY_SECONDS` (at most
        half the shortest lease, so nothing waits much past its lease); runs until cancelled."""
        while True:
            for flow in flows:
                try:
                    await self.recover_once(flow, spawn)
                except Exception:  # noqa: BLE001 - the database may be briefly away; the next round tries again
                    log.exception("inbox: could not look for unfinished work under %s", flow.prefix)
            await asyncio.sleep(min([self.recover_every_seconds, *(self.lease_for(f) / 2 for f in flows)]))
