"""What guidebot does with each kind of Slack request: turn it into one core call and answer.

Every listener acknowledges at once (Slack wants an ack within 3 seconds) and
does the work in a background task. De-duplication lives in the state store,
so it holds across replicas: a Slack retry (`X-Slack-Retry-Num`), a replay
of the same event, and the `message` event that accompanies an `app_mention`
all lease the same `slack:message:<channel>:<ts>` and stop.

Answering is durable work in the core's inbox (`bot.inbox`): a question is
accepted under `slack:message:<channel>:<ts>` (a command under
`slack:command:<trigger_id>`) with what is needed to answer it again, and
completed once the reply is delivered or the member was told it could not be.
Slack never resends an event it had an ack for, so a question is accepted
before its ack (and a feedback click stored before its ack): when a replica
dies after the ack, another replica's inbox recovery finds the lapsed lease and
answers it through `QuestionFlow`; when it dies before, Slack retries. What a
lease holds is in `adapters.slack.work`; the inbox hashes the member and cuts
and redacts the text before it is written.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from adapters.background import Background
from adapters.slack import render
from adapters.slack.delivery import STATUS_SEARCHING, Delivery
from adapters.slack.handoff_blocks import after_vote
from adapters.slack.text import mentions_user, question_text
from adapters.slack.work import PLATFORM, Command, Question, dump_command, dump_question, load_command, load_question, recovered_again
from bot.answer import Answer, Reply
from bot.inbox import CallbackFlow, Flow, Outcome
from bot.metrics import ERRORS
from bot.service import Guidebot, Inbound

log = logging.getLogger(__name__)

CLAIM_TTL_SECONDS = 86400
LEASE_SECONDS = 180
"""Longer than answering can take, Slack's rate-limit waits and retries included."""
RECOVERY_ATTEMPTS = 3
"""Times recovery answers a question whose answer Slack would not take for now (throttled or down after the
client's own retries) before the answer is given up: a member in a DM cannot be told otherwise (the lease
keeps their hash, not their Slack id), so one unlucky spell of 5xx must not be the end of it."""
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast"})
"""Message subtypes a person wrote; edits, joins, bots, files … are ignored."""


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class Listeners:
    """The behaviour behind each Bolt listener."""

    def __init__(self, guidebot: Guidebot, delivery: Delivery, background: Background) -> None:
        self.guidebot = guidebot
        self.delivery = delivery
        self.background = background
        self.questions = QuestionFlow(self._answer_recovered)
        self.commands = CommandFlow(self._command_recovered)
        self.flows: tuple[Flow[Any], ...] = (self.questions, self.commands)

    @property
    def lease_seconds(self) -> int:
        """`GUIDEBOT_WORK_LEASE_SECONDS`, else `LEASE_SECONDS`."""
        return self.guidebot.inbox.lease_for(self.questions)

    async def recover(self) -> int:
        """Take over answers whose replica stopped before delivering them; return how many."""
        return sum([await self.guidebot.inbox.recover_once(flow, self.background.spawn) for flow in self.flows])

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
            self.background.spawn(self.guidebot.inbox.run(self.questions, q.key, partial(self._answer_leased, q)))

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

    async def _take(self, q: Question) -> bool:
        """Accept the message into the inbox: True when this replica should answer it.

        The lease on channel + ts is the only claim: a retry or replay of the
        event, and the `message` event beside an `app_mention`, name the same
        message. (A separate final claim on the event id, taken first, would
        turn away Slack's retry of an event whose replica died between the two.)
        """
        if not await self.guidebot.inbox.accept(self.questions, q.key, q, text=q.text, user_id=q.user):
            log.info("slack: message of event %s already answered", q.event_id, extra={"event_id": q.event_id})
            return False
        return True

    async def _answer_leased(self, q: Question, *, retry_later: bool = True) -> Outcome:
        """Answer a message whose lease this replica holds: DONE when it is done with, told or delivered.

        LATER when Slack was unavailable (throttling or down, after the client's retries) and
        `retry_later`: the lease is left to lapse, so recovery tries again, after reading the
        thread back, instead of telling the member it failed.
        """
        try:
            if q.known_thread_only and not await asyncio.to_thread(self.guidebot.knows_thread, q.thread_key):
                return Outcome.DONE
            if q.assistant_thread and q.reply_thread_ts:
                await self.delivery.set_status(channel=q.channel, thread_ts=q.reply_thread_ts, status=STATUS_SEARCHING, ref=q.event_id)
            reply = await self.guidebot.respond_async(
                Inbound(text=q.text, platform=PLATFORM, conversation_id=q.channel, thread_key=q.thread_key, **q.inbound_member)
            )
        except Exception:  # the answer's boundary: counted, logged, the member told
            ERRORS.labels("slack").inc()
            log.exception("slack: could not answer event %s", q.event_id, extra={"event_id": q.event_id})
            await self.delivery.post_failure(channel=q.channel, thread_ts=q.reply_thread_ts, user=q.slack_user, ref=q.event_id)
            return Outcome.DONE
        if q.known_thread_only and _stay_quiet(reply, q.text):
            log.info("slack: no answer to an unmentioned thread message", extra={"event_id": q.event_id})
            return Outcome.DONE
        outcome = await self.delivery.post_reply(reply, channel=q.channel, thread_ts=q.reply_thread_ts, ref=q.event_id, lease=q.key)
        if outcome == "unavailable" and retry_later:
            log.warning("slack: event %s will be answered again once its lease lapses", q.event_id, extra={"event_id": q.event_id})
            return Outcome.LATER
        if outcome != "delivered":
            await self.delivery.post_failure(
                channel=q.channel, thread_ts=q.reply_thread_ts, user=q.slack_user, ref=q.event_id, in_conversation=outcome == "refused"
            )
        return Outcome.DONE

    async def _answer_recovered(self, q: Question) -> Outcome:
        """A lapsed lease: answer, unless an answer reached Slack before (its replica died, or Slack only
        seemed unavailable). Slack unavailable again leaves the lease to lapse once more, up to
        `RECOVERY_ATTEMPTS` recoveries; the last one's failure is told to the member where Slack allows it."""
        log.warning("slack: answering event %s, left unanswered by a stopped replica", q.event_id, extra={"event_id": q.event_id})
        if await self.delivery.answered(lease=q.key, channel=q.channel, thread_ts=q.reply_thread_ts, after_ts=q.ts, ref=q.event_id):
            log.info("slack: event %s was answered before its replica stopped", q.event_id, extra={"event_id": q.event_id})
            return Outcome.DONE
        return await self._answer_leased(q, retry_later=q.recoveries + 1 < RECOVERY_ATTEMPTS)

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

        if not await self.guidebot.inbox.claim_once(f"slack:event:{event_id}", CLAIM_TTL_SECONDS):
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
        command = Command(ref=ref, text=text, channel=_str(body.get("channel_id")), response_url=response_url, user=_str(body.get("user_id")))
        try:
            if not await self.guidebot.inbox.accept(self.commands, command.key, command, text=text, user_id=command.user):
                return
        except Exception:  # the command's boundary: counted, logged, the member told
            ERRORS.labels("slack").inc()
            log.exception("slack: state store unavailable for command %s", ref, extra={"event_id": ref})
            await self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral")
            return
        await self.guidebot.inbox.run(self.commands, command.key, partial(self._command_leased, command))

    async def _command_recovered(self, command: Command) -> Outcome:
        log.warning("slack: answering command %s, left unanswered by a stopped replica", command.ref, extra={"event_id": command.ref})
        return await self._command_leased(command)

    async def _command_leased(self, command: Command) -> Outcome:
        response_url, ref, text = command.response_url, command.ref, command.text
        try:
            reply = await self.guidebot.respond_async(
                Inbound(text=text, platform=PLATFORM, user_id=command.user, member_hash=command.member, conversation_id=command.channel)
            )
        except Exception:  # the command's boundary: counted, logged, the member told
            ERRORS.labels("slack").inc()
            log.exception("slack: could not answer command %s", ref, extra={"event_id": ref})
            await self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral")
            return Outcome.DONE
        share = render.share_value(text, reply.answer_id if isinstance(reply, Answer) else "") if render.shareable(reply) else None
        if not await self.delivery.respond(response_url, reply, ref=ref, share=share):
            await self.delivery.respond_message(response_url, render.failure_message(), ref=ref, response_type="ephemeral")
        return Outcome.DONE

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
        self.background.spawn(self._feedback_noted(body, verdict, ref, response_url, answer_id))

    async def _feedback_noted(self, body: dict[str, Any], verdict: str, ref: str, response_url: str | None, answer_id: str = "") -> None:
        """Show the member their vote was received: in the message itself, else privately (after a 👎, with
        "Ask the program team" when hand-offs are on)."""
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
            noted = after_vote(render.with_feedback_note(blocks, verdict), verdict, answer_id, self.delivery.ask_team)
            if await self.delivery.update(channel=channel_id, ts=message["ts"], text=text, blocks=noted, ref=ref):
                return
        if response_url:
            note = render.feedback_note_message(verdict)
            note["blocks"] = after_vote(note["blocks"], verdict, answer_id, self.delivery.ask_team)
            await self.delivery.respond_message(response_url, note, ref=ref, response_type="ephemeral", replace_original=False)


def _stay_quiet(reply: Reply, text: str) -> bool:
    """In a thread nobody mentioned guidebot in, only answers and real questions get a reply."""
    return isinstance(reply, Answer) and reply.abstained and reply.reason in ("out_of_scope", "empty") and not text.rstrip().endswith("?")


W = TypeVar("W")


class _SlackFlow(CallbackFlow[W]):
    """Slack's durable work: answered again by `handle` (a `Listeners` method) once its lease lapsed."""

    platform = PLATFORM
    lease = LEASE_SECONDS


class QuestionFlow(_SlackFlow[Question]):
    prefix = "slack:message:"

    def dumps(self, event: Question, *, text: str, member: str | None) -> str:
        return dump_question(event, text=text, member=member)

    def loads(self, key: str, work: str) -> Question:
        return load_question(work)

    def next_attempt(self, work: str) -> str:
        return recovered_again(work)


class CommandFlow(_SlackFlow[Command]):
    prefix = "slack:command:"

    def dumps(self, event: Command, *, text: str, member: str | None) -> str:
        return dump_command(event, text=text, member=member)

    def loads(self, key: str, work: str) -> Command:
        return load_command(work)
