"""A member's question is leased, acknowledged, then answered: Teams never waits on the encoder.

Teams waits 15 seconds for the HTTP response to an activity and resends one it
got no 2xx for; an answer can queue behind dozens of others. So a question is
leased in the state store (`store.claim_work`, keyed by conversation and
activity id, holding the activity itself), Teams gets its 200 at once, and the
turn runs here in the background with the request's own credentials.

- A resend of a question already leased (Teams' retry, a replay, another
  replica) gets 200 and is not answered again.
- A replica that dies mid-answer leaves its lease to lapse; `recover` (every
  replica, at start-up and then every so often) takes it over and answers from
  the stored activity as a proactive turn, so an acknowledged question is not
  lost. A reply the connector accepted in the instant before the kill, before
  its lease was completed, is sent again: Teams offers a bot no way to read the
  conversation back, so delivery across a crash is at least once.
- A reply the connector still refuses for now after its retries (429, 5xx,
  unreachable) is left the same way, to be tried again by `recover` once the
  lease lapses; one it refuses outright (4xx) is logged and not retried.
- A question that looks like it holds patient details is stored with its text
  redacted; only this replica's live answer sees it as typed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes
from botframework.connector.auth import AuthenticateRequestResult

from adapters.background import Background
from adapters.teams.cards import FEEDBACK_ACTION
from adapters.teams.delivery import DeliveryFailed
from bot.metrics import ERRORS
from bot.privacy import looks_like_phi, redact
from bot.store import StateStore

log = logging.getLogger(__name__)

WORK_PREFIX = "teams:activity:"
LEASE_SECONDS = 60
"""Longer than an answer can take: the wait for the encoder under load, then connector retries."""
CLAIM_TTL = 86_400
LEASE_COMPLETED = "guidebot.lease_completed"
"""Set in a turn's state by a turn that completed its lease itself (right after sending its reply)."""
RECOVER_EVERY_SECONDS = 30.0
RECOVER_BATCH = 50


def base_conversation(conversation_id: str) -> str:
    """A channel thread's id is `<channel>;messageid=<root>`: message ids are unique per channel."""
    return conversation_id.split(";", 1)[0]


def lease_key(conversation_id: str | None, activity_id: str | None) -> str | None:
    if not activity_id or not conversation_id:
        return None
    return f"{WORK_PREFIX}{base_conversation(conversation_id)}:{activity_id}"


def _body_lease_key(body: Mapping[str, Any]) -> str | None:
    conversation = body.get("conversation")
    return lease_key(conversation.get("id") if isinstance(conversation, Mapping) else None, body.get("id"))


def is_question(body: Mapping[str, Any]) -> bool:
    """A message (as Teams sent it) to answer after the ack; card presses and expect-replies turns stay in the request."""
    if body.get("type") != ActivityTypes.message or _body_lease_key(body) is None:
        return False
    if body.get("deliveryMode") == DeliveryModes.expect_replies:
        return False
    value = body.get("value")
    return not (isinstance(value, Mapping) and value.get("action") == FEEDBACK_ACTION)


class NotAnActivity(ValueError):
    """The body passed the endpoint's checks but botbuilder cannot read it as an activity."""


def stored_work(body: Mapping[str, Any]) -> str:
    """The activity as Teams sent it, to answer it again from; patient details never reach the database."""
    payload = dict(body)
    text = payload.get("text")
    if isinstance(text, str) and looks_like_phi(text):
        payload["text"] = redact(text)
    return json.dumps(payload, ensure_ascii=False)


Turn = Callable[[TurnContext], Awaitable[None]]


class Answering:
    """Leases questions, runs their turns after the ack, and takes over those a stopped replica left."""

    def __init__(
        self,
        adapter: Any,
        turn: Turn,
        store: StateStore,
        *,
        app_id: str | None,
        lease_seconds: int | None = None,
    ) -> None:
        self.adapter = adapter
        self.turn = turn
        self.store = store
        self.app_id = app_id
        self.lease_seconds = lease_seconds or LEASE_SECONDS
        self.background = Background("teams")
        self._in_flight: set[str] = set()
        self._recovery: asyncio.Task[None] | None = None

    async def take(self, authenticated: AuthenticateRequestResult, body: Mapping[str, Any]) -> bool:
        """Lease the question in `body` and start answering it: True when this call started the answer.

        The full activity is read here, not before the token check. Raises
        `NotAnActivity` for a body botbuilder cannot read, and whatever the
        store raises when it cannot be reached: the caller must not acknowledge
        a question nothing will answer.
        """
        key = _body_lease_key(body)
        assert key is not None

        try:
            activity = Activity().deserialize(body)
        except Exception as error:  # msrest raises several kinds for values of the wrong shape
            raise NotAnActivity(type(error).__name__) from error
        result = await self.store.claim_work_async(key, lease_seconds=self.lease_seconds, work=stored_work(body))
        if result != "won":
            log.info("teams activity already %s, not answering again", "answered" if result == "done" else "being answered",
                     extra={"activity_id": activity.id})
            return False
        self._start(key, activity.id, partial(self.adapter.process_activity, authenticated, activity))
        return True

    async def recover(self) -> int:
        """Answer the questions whose replica stopped before answering them; return how many."""
        items = await asyncio.to_thread(self.store.unfinished, WORK_PREFIX, RECOVER_BATCH)
        taken = 0
        for item in items:
            if item.key in self._in_flight:
                continue  # ours, still queued for the encoder past its lease
            claimed = await asyncio.to_thread(self.store.claim_work, item.key, lease_seconds=self.lease_seconds, work=item.work)
            if claimed != "won":
                continue
            try:
                body = json.loads(item.work)
                activity = Activity().deserialize(body)
                if _body_lease_key(body) != item.key:
                    raise ValueError("the stored activity does not match its key")
            except Exception:  # unreadable work: answering it again is impossible, keeping it retries forever
                log.error("teams: dropped unreadable unfinished work %s", item.key)
                await asyncio.to_thread(self.store.complete, item.key, CLAIM_TTL)
                continue
            log.warning("teams: answering activity %s, left unanswered by a stopped replica", activity.id,
                        extra={"activity_id": activity.id})
            identity = self.adapter.create_claims_identity(self.app_id or "")
            self._start(item.key, activity.id, partial(self.adapter.process_proactive, identity, activity, None))
            taken += 1
        return taken

    def _start(self, key: str, ref: str | None, run: Callable[[Turn], Awaitable[Any]]) -> None:
        """`run(logic)` runs a turn (from the request, or proactively) with `logic` as the bot."""
        self._in_flight.add(key)
        self.background.spawn(self._run(key, ref, run))

    async def _run(self, key: str, ref: str | None, run: Callable[[Turn], Awaitable[Any]]) -> None:
        """Every outcome completes the lease, here or (a reply sent) in the turn itself (a failed turn was
        logged and is not retried by a resend),
        except a reply the connector would not take for now: its lease lapses and `recover` tries again."""
        completed = retry_later = False

        async def logic(context: TurnContext) -> None:
            nonlocal completed, retry_later
            try:
                await self.turn(context)
            except DeliveryFailed as failed:
                retry_later = failed.transient
                raise
            completed = bool(context.turn_state.get(LEASE_COMPLETED))

        try:
            await run(logic)
        except asyncio.CancelledError:
            self._in_flight.discard(key)
            raise  # stopped mid-answer: the lease lapses and the next replica's `recover` answers
        except Exception:
            ERRORS.labels("teams").inc()
            log.exception("teams activity %s could not be answered", ref, extra={"activity_id": ref})
        self._in_flight.discard(key)
        if completed:
            return
        if retry_later:
            log.warning("teams: the reply to activity %s will be sent again once its lease lapses", ref, extra={"activity_id": ref})
            return
        try:
            await asyncio.to_thread(self.store.complete, key, CLAIM_TTL)
        except Exception:
            ERRORS.labels("teams").inc()
            log.exception("teams: could not mark activity %s answered", ref, extra={"activity_id": ref})

    async def _recover_forever(self) -> None:
        while True:
            try:
                await self.recover()
            except Exception:  # the database may be briefly away; try again later
                log.exception("teams: could not look for unfinished answers")
            await asyncio.sleep(min(RECOVER_EVERY_SECONDS, self.lease_seconds / 2))

    async def on_startup(self, _app: Any) -> None:
        self._recovery = asyncio.get_running_loop().create_task(self._recover_forever())

    async def on_shutdown(self, _app: Any) -> None:
        """Before the server's cleanup closes the store: answers in flight still complete their leases."""
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
        await self.background.close()
