"""What guidebot does with each kind of Slack request: turn it into one core call and answer.

Every listener acknowledges at once (Slack wants an ack within 3 seconds) and
does the work in a background task. De-duplication lives in the state store,
so it holds across replicas: a Slack retry (`X-Slack-Retry-Num`), a replay
of the same event, and the `message` event that accompanies an `app_mention`
all lease the same `slack:message:<channel>:<ts>` and stop.

Answering is leased work (`store.claim_work`): the lease on
`slack:message:<channel>:<ts>` (or `slack:command:<trigger_id>`) holds what is
needed to answer again, and `complete` ends it once the reply is delivered or
the member was told it could not be. Slack never resends an event it had an
ack for, so a question is leased before its ack (and a feedback click stored
before its ack): when a replica dies after the ack, another replica's
`recover` finds the lapsed lease (`store.unfinished`) and answers; when it
dies before, Slack retries.
A lease holds what answering needs and no more: the member as a keyed hash
(`store.member_hash`), never their Slack id, and the text cut to
`GUIDEBOT_MAX_QUESTION_CHARS` and redacted when it looks like it holds patient
details, so it is never written to the database as typed. The guard runs on a
worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, replace
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from adapters.background import Background
from adapters.slack import render
from adapters.slack.delivery import STATUS_SEARCHING, Delivery
from adapters.slack.text import mentions_user, question_text
from bot.answer import Answer, Reply
from bot.metrics import ERRORS
from bot.privacy import looks_like_phi, redact
from bot.service import Guidebot, Inbound

log = logging.getLogger(__name__)

PLATFORM = "slack"
CLAIM_TTL_SECONDS = 86400
LEASE_SECONDS = 180
"""Longer than answering can take, Slack's rate-limit waits and retries included."""
RECOVER_EVERY_SECONDS = 30.0
WORK_PREFIX = "slack:"
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast"})
"""Message subtypes a person wrote; edits, joins, bots, files … are ignored."""


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

    @property
    def inbound_member(self) -> dict[str, str | None]:
        """The member for the core's `Inbound`: the Slack id, or the hash a lease kept."""
        return {"user_id": None, "member_hash": self.user} if self.user_is_hash else {"user_id": self.user, "member_hash": None}

    @property
    def slack_user(self) -> str | None:
        return None if self.user_is_hash else self.user


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class Listeners:
    """The behaviour behind each Bolt listener."""

    def __init__(self, guidebot: Guidebot, delivery: Delivery, background: Background, lease_seconds: int | None = None) -> None:
        self.guidebot = guidebot
        self.delivery = delivery
        self.background = background
        self._lease_seconds = lease_seconds

    @property
    def lease_seconds(self) -> int:
        """`GUIDEBOT_WORK_LEASE_SECONDS`, else `LEASE_SECONDS`."""
        return self._lease_seconds or LEASE_SECONDS

    # ------------------------------------------------------------ helpers

    async def _claim(self, key: str) -> bool:
        return await asyncio.to_thread(self.guidebot.store.claim, key, CLAIM_TTL_SECONDS)

    @staticmethod
    def _team(body: dict[str, Any], context: AsyncBoltContext) -> str:
        return _str(context.team_id) or _str(body.get("team_id")) or "-"

    # ------------------------------------------------------------ events

    async def app_mention(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._accept(ack, self._question_from_mention(body, event, context))

    def _question_from_mention(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> Question | None:
        channel, ts, user = _str(event.get("channel")), _str(event.get("ts")), _str(event.get("user"))
        if not (channel and ts and user) or event.get("bot_id") or event.get("subtype") not in HUMAN_SUBTYPES:
            return None
        reply_thread = _str(event.get("thread_ts")) or ts
        team = self._team(body, context)
        return Question(
            event_id=_str(body.get("event_id")) or f"{channel}:{ts}",
            team=team,
            channel=channel,
            ts=ts,
            user=user,
            text=question_text(_str(event.get("text")) or "", context.bot_user_id),
            reply_thread_ts=reply_thread,
            thread_key=f"slack:{team}:{channel}:{reply_thread}",
        )

    async def message(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._accept(ack, self._question_from_message(body, event, context))

    async def _accept(self, ack: AsyncAck, q: Question | None) -> None:
        """Lease the question, then ack, then answer: once acked, Slack never sends the event again."""
        if q is None:
            await ack()
            return
        try:
            taken = await self._take(q)
        except Exception:  # the event's boundary: counted, logged, acknowledged, the member told
            ERRORS.labels("slack").inc()
            log.exception("slack: state store unavailable for event %s", q.event_id, extra={"event_id": q.event_id})
            await ack()
            self.background.spawn(self.delivery.post_failure(channel=q.channel, thread_ts=q.reply_thread_ts, user=q.user, ref=q.event_id))
            return
        await ack()
        if taken:
            self.background.spawn(self._finish(_message_key(q), q.event_id, self._answer_leased(q)))

    def _question_from_message(self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> Question | None:
        if event.get("subtype") not in HUMAN_SUBTYPES or event.get("bot_id") or event.get("bot_profile"):
            return None
        channel, ts, user = _str(event.get("channel")), _str(event.get("ts")), _str(event.get("user"))
        if not (channel and ts and user) or user == context.bot_user_id:
            return None
        raw = _str(event.get("text")) or ""
        thread_ts = _str(event.get("thread_ts"))
        team = self._team(body, context)
        event_id = _str(body.get("event_id")) or f"{channel}:{ts}"
        text = question_text(raw, context.bot_user_id)
        if event.get("channel_type") == "im":
            key = f"slack:{team}:{channel}" + (f":{thread_ts}" if thread_ts else "")
            return Question(event_id, team, channel, ts, user, text, thread_ts, key, assistant_thread=bool(thread_ts))
        if mentions_user(raw, context.bot_user_id) or not thread_ts:
            return None  # a mention is answered from its app_mention event; other channel talk is not for us
        key = f"slack:{team}:{channel}:{thread_ts}"
        return Question(event_id, team, channel, ts, user, text, thread_ts, key, known_thread_only=True)

    async def _lease(self, key: str, work: dict[str, Any]) -> bool:
        result = await self.guidebot.store.claim_work_async(key, lease_seconds=self.lease_seconds, work=json.dumps(work, ensure_ascii=False))
        return result == "won"

    async def _complete(self, key: str, ref: str) -> None:
        try:
            await asyncio.to_thread(self.guidebot.store.complete, key, CLAIM_TTL_SECONDS)
        except Exception:  # counted and logged: the lease lapses and the event is answered again
            ERRORS.labels("slack").inc()
            log.exception("slack: could not mark event %s done", ref, extra={"event_id": ref})

    async def _take(self, q: Question) -> bool:
        """Lease the message: True when this replica should answer it.

        The lease on channel + ts is the only claim: a retry or replay of the
        event, and the `message` event beside an `app_mention`, name the same
        message. (A separate final claim on the event id, taken first, would
        turn away Slack's retry of an event whose replica died between the two.)
        """
        stored = await asyncio.to_thread(self._stored, q)
        if not await self._lease(_message_key(q), {"kind": "message", "question": asdict(stored)}):
            log.info("slack: message of event %s already answered", q.event_id, extra={"event_id": q.event_id})
            return False
        return True

    def _stored(self, q: Question) -> Question:
        """The question as its lease keeps it: the member hashed, the text cut and redacted (runs the privacy guard)."""
        member = self.guidebot.store.member_hash(PLATFORM, q.user) if not q.user_is_hash else q.user
        return replace(q, user=member, user_is_hash=True, text=self._stored_text(q.text))

    def _stored_text(self, text: str) -> str:
        cut = text[: self.guidebot.settings.max_question_chars]
        return redact(cut) if looks_like_phi(cut) else cut

    async def _answer_leased(self, q: Question, *, retry_later: bool = True) -> bool:
        """Answer a message whose lease this replica holds: True when it is done with, told or delivered.

        False when Slack was unavailable (throttling or down, after the client's retries) and
        `retry_later`: the lease is left to lapse, so `recover` tries once more, after reading the
        thread back, instead of telling the member it failed.
        """
        try:
            if q.known_thread_only and await asyncio.to_thread(self.guidebot.store.get_thread, q.thread_key) is None:
                return True
            if q.assistant_thread and q.reply_thread_ts:
                await self.delivery.set_status(channel=q.channel, thread_ts=q.reply_thread_ts, status=STATUS_SEARCHING, ref=q.event_id)
            reply = await self.guidebot.respond_async(
                Inbound(text=q.text, platform=PLATFORM, conversation_id=q.channel, thread_key=q.thread_key, **q.inbound_member)
            )
        except Exception:  # the answer's boundary: counted, logged, the member told
            ERRORS.labels("slack").inc()
            log.exception("slack: could not answer event %s", q.event_id, extra={"event_id": q.event_id})
            await self.delivery.post_failure(channel=q.channel, thread_ts=q.reply_thread_ts, user=q.slack_user, ref=q.event_id)
            return True
        if q.known_thread_only and _stay_quiet(reply, q.text):
            log.info("slack: no answer to an unmentioned thread message", extra={"event_id": q.event_id})
            return True
        outcome = await self.delivery.post_reply(reply, channel=q.channel, thread_ts=q.reply_thread_ts, ref=q.event_id, lease=_message_key(q))
        if outcome == "unavailable" and retry_later:
            log.warning("slack: event %s will be answered again once its lease lapses", q.event_id, extra={"event_id": q.event_id})
            return False
        if outcome != "delivered":
            await self.delivery.post_failure(
                channel=q.channel, thread_ts=q.reply_thread_ts, user=q.slack_user, ref=q.event_id, in_conversation=outcome == "refused"
            )
        return True

    async def recover(self) -> int:
        """Take over answers whose replica stopped before delivering them; return how many."""
        items = await asyncio.to_thread(self.guidebot.store.unfinished, WORK_PREFIX, 50)
        taken = 0
        for item in items:
            if await asyncio.to_thread(self.guidebot.store.claim_work, item.key, lease_seconds=self.lease_seconds, work=item.work) != "won":
                continue
            try:
                work = json.loads(item.work)
                if work["kind"] == "message":
                    question = Question(**work["question"])
                    log.warning("slack: answering event %s, left unanswered by a stopped replica", question.event_id, extra={"event_id": question.event_id})
                    self.background.spawn(self._finish(item.key, question.event_id, self._answer_recovered(question)))
                elif work["kind"] == "command":
                    log.warning("slack: answering command %s, left unanswered by a stopped replica", work["ref"], extra={"event_id": work["ref"]})
                    self.background.spawn(self._finish(item.key, work["ref"], self._command_leased(work)))
                else:
                    raise ValueError(work["kind"])
                taken += 1
            except (ValueError, KeyError, TypeError):
                log.error("slack: dropped unreadable unfinished work %s", item.key)
                await self._complete(item.key, item.key)
        return taken

    async def _answer_recovered(self, q: Question) -> bool:
        """A lapsed lease: answer, unless an answer reached Slack before (its replica died, or Slack only
        seemed unavailable); this is the last try, so a failure now is told to the member."""
        if await self.delivery.answered(lease=_message_key(q), channel=q.channel, thread_ts=q.reply_thread_ts, after_ts=q.ts, ref=q.event_id):
            log.info("slack: event %s was answered before its replica stopped", q.event_id, extra={"event_id": q.event_id})
            return True
        return await self._answer_leased(q, retry_later=False)

    async def _finish(self, key: str, ref: str, work: Coroutine[Any, Any, bool | None]) -> None:
        """Complete the lease once `work` is done with it (anything but False: that one is left to lapse)."""
        if await work is not False:
            await self._complete(key, ref)

    async def assistant_thread_started(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        thread = event.get("assistant_thread")
        if not isinstance(thread, dict):
            return
        channel, thread_ts = _str(thread.get("channel_id")), _str(thread.get("thread_ts"))
        if channel and thread_ts:
            event_id = _str(body.get("event_id")) or f"{channel}:{thread_ts}"
            self.background.spawn(self._suggest(channel, thread_ts, event_id))

    async def _suggest(self, channel: str, thread_ts: str, event_id: str) -> None:
        from bot.summaries import suggested_prompts

        if not await self._claim(f"slack:event:{event_id}"):
            return
        prompts = await asyncio.to_thread(lambda: suggested_prompts(self.guidebot.engines.index, limit=4))
        if prompts:
            await self.delivery.suggest_prompts(channel=channel, thread_ts=thread_ts, prompts=prompts, ref=event_id)

    async def ignore(self, ack: AsyncAck) -> None:
        await ack()

    # ------------------------------------------------------------ /guide

    async def command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self.background.spawn(self._command(body))

    async def _command(self, body: dict[str, Any]) -> None:
        response_url = _str(body.get("response_url"))
        ref = _str(body.get("trigger_id")) or "command"
        if response_url is None:
            log.warning("slack: a command without response_url", extra={"event_id": ref})
            return
        text = question_text(_str(body.get("text")) or "") or "help"
        user = _str(body.get("user_id"))
        work = {
            "kind": "command",
            "ref": ref,
            "text": await asyncio.to_thread(self._stored_text, text),
            "member": await asyncio.to_thread(self.guidebot.store.member_hash, PLATFORM, user) if user else None,
            "channel": _str(body.get("channel_id")),
            "response_url": response_url,
        }
        key = f"slack:command:{ref}"
        try:
            if not await self._lease(key, work):
                return
        except Exception:  # the command's boundary: counted, logged, the member told
            ERRORS.labels("slack").inc()
            log.exception("slack: state store unavailable for command %s", ref, extra={"event_id": ref})
            await self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral")
            return
        await self._command_leased({**work, "text": text, "user": user, "member": None})
        await self._complete(key, ref)

    async def _command_leased(self, work: dict[str, Any]) -> None:
        response_url, ref, text = work["response_url"], work["ref"], work["text"]
        try:
            reply = await self.guidebot.respond_async(
                Inbound(text=text, platform=PLATFORM, user_id=work.get("user"), member_hash=work.get("member"), conversation_id=work.get("channel"))
            )
        except Exception:  # the command's boundary: counted, logged, the member told
            ERRORS.labels("slack").inc()
            log.exception("slack: could not answer command %s", ref, extra={"event_id": ref})
            await self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral")
            return
        share = render.share_value(text, reply.answer_id if isinstance(reply, Answer) else "") if render.shareable(reply) else None
        if not await self.delivery.respond(response_url, reply, ref=ref, share=share):
            await self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral")

    # ------------------------------------------------------------ buttons

    async def share(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self.background.spawn(self._share(body, action))

    def _reproduce(self, question: str, answer_id: str) -> Reply:
        """The reply the member saw, again, without logging the question a second time."""
        summary = self.guidebot.summary_for(question)
        if summary is not None:
            return summary
        answer = self.guidebot.engines.engine().answer(question)
        return replace(answer, answer_id=answer_id or answer.answer_id)

    async def _clicked_reply(self, body: dict[str, Any], action: dict[str, Any], what: str) -> tuple[str, str, Reply | None] | None:
        """A share or show-passages click: its response URL, a reference for the logs, and the reply its button
        carries the question of, answered again (None when that failed: counted and logged here, told by the caller)."""
        response_url = _str(body.get("response_url"))
        parsed = render.parse_share_value(action.get("value"))
        ref = _str(body.get("trigger_id")) or what
        if response_url is None or parsed is None:
            log.warning("slack: a %s click without what it needs", what, extra={"event_id": ref})
            return None
        try:
            return response_url, ref, await asyncio.to_thread(self._reproduce, *parsed)
        except Exception:  # the click's boundary: counted, logged, the member told by the caller
            ERRORS.labels("slack").inc()
            log.exception("slack: could not answer a %s click", what, extra={"event_id": ref})
            return response_url, ref, None

    async def _share(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        clicked = await self._clicked_reply(body, action, "share")
        if clicked is None:
            return
        response_url, ref, reply = clicked
        if reply is not None and await self.delivery.respond(response_url, reply, ref=ref, response_type="in_channel"):
            await self.delivery.delete_original(response_url, ref=ref)
        else:
            await self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral", replace_original=False)

    async def passages(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """"Show the passages": the answer's passages in full, privately, to the member who clicked."""
        await ack()
        self.background.spawn(self._passages(body, action))

    async def _passages(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        clicked = await self._clicked_reply(body, action, "show-passages")
        if clicked is None:
            return
        response_url, ref, reply = clicked
        public_url = self.delivery.public_url
        if reply is None:
            message = render.failure_message()
        elif isinstance(reply, Answer):
            message = render.passages_message(reply, public_url=public_url)
        else:
            message = render.reply_message(reply, public_url=public_url, style="links")
        await self.delivery.respond_message(response_url, message, ref=ref, response_type="ephemeral", replace_original=False)

    async def feedback(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Store the vote, then ack: an acknowledged click is in the database, whatever happens next."""
        parsed = render.parse_feedback_value(action.get("value"))
        user = body.get("user")
        user_id = _str(user.get("id")) if isinstance(user, dict) else _str(user)
        ref = _str(body.get("trigger_id")) or "feedback"
        response_url = _str(body.get("response_url"))
        if parsed is None or user_id is None:
            await ack()
            log.info("slack: ignored a feedback click without an answer id", extra={"event_id": ref})
            return
        verdict, answer_id = parsed
        try:
            await asyncio.to_thread(self.guidebot.record_feedback, answer_id, user_id, PLATFORM, verdict)
        except Exception:  # the click's boundary: counted, logged, the member told
            await ack()
            ERRORS.labels("slack").inc()
            log.exception("slack: could not store feedback on %s", answer_id, extra={"event_id": ref})
            if response_url:
                self.background.spawn(
                    self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral", replace_original=False)
                )
            return
        await ack()
        self.background.spawn(self._feedback_noted(body, verdict, ref, response_url))

    async def _feedback_noted(self, body: dict[str, Any], verdict: str, ref: str, response_url: str | None) -> None:
        """Show the member their vote was received: in the message itself, else privately."""
        message = body.get("message")
        container = body.get("container")
        if not isinstance(container, dict):
            container = {}
        channel = body.get("channel")
        channel_id = _str(channel.get("id")) if isinstance(channel, dict) else _str(container.get("channel_id"))
        if isinstance(message, dict) and not container.get("is_ephemeral") and channel_id and _str(message.get("ts")):
            blocks = message.get("blocks")
            if not isinstance(blocks, list):
                blocks = []
            text = _str(message.get("text")) or render.feedback_note_message(verdict)["text"]
            if await self.delivery.update(channel=channel_id, ts=message["ts"], text=text, blocks=render.with_feedback_note(blocks, verdict), ref=ref):
                return
        if response_url:
            await self.delivery.respond_message(response_url, render.feedback_note_message(verdict), ref=ref, response_type="ephemeral", replace_original=False)


def _message_key(q: Question) -> str:
    return f"slack:message:{q.channel}:{q.ts}"


def _stay_quiet(reply: Reply, text: str) -> bool:
    """In a thread nobody mentioned guidebot in, only answers and real questions get a reply."""
    return isinstance(reply, Answer) and reply.abstained and reply.reason in ("out_of_scope", "empty") and not text.rstrip().endswith("?")
