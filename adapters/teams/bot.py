"""The Teams behaviour: a member's activity in, one core call, the rendered reply out.

- Messages (personal chat, group chat, channel @mentions with the mention removed)
  are answered after Teams had its 200 (`answering`); the turn completes the
  question's lease the moment the reply is sent, so a crash just after it
  leaves the smallest window for a second answer.
- Answers carry citations and Teams' feedback buttons; the `message/submitAction`
  invoke those buttons send (which botbuilder 4.17 does not route) is stored
  against the answer the message showed (its `replyToId`, or the answer id our
  reply's `channelData` carried); a vote that names neither is stored
  unattributed and counted, never filed under a guessed answer.
- Summary cards carry 👍 / 👎 `Action.Submit` buttons; a press is stored and the
  card is redrawn, thanked, in place.
- Installing the bot, or adding it to a team or chat, sends one welcome.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ChannelAccount, Entity, ResourceResponse
from botbuilder.schema.teams import TeamInfo
from msrest.exceptions import DeserializationError

from adapters.teams.answering import RECOVERED_MEMBER, base_conversation, lease_key
from adapters.teams.cards import FEEDBACK_ACTION
from adapters.teams.delivery import DeliveryFailed
from adapters.teams.replies import answer_activity, summary_activity, thanks_activity, welcome_activity
from adapters.teams.text import clip
from bot.answer import Answer, Summary, new_answer_id
from bot.commands import HELP_EXAMPLES
from bot.service import Guidebot, Inbound

if TYPE_CHECKING:
    from adapters.teams.handoff import TeamsHandoffs

log = logging.getLogger(__name__)

PLATFORM = "teams"
WELCOME_TTL = 3_600
FEEDBACK_COMMENT_MAX = 1_000
REACTIONS = {"like": "up", "dislike": "down"}
REPLY_ID_WAITS = (0.05, 0.15, 0.3, 0.5, 1.0, 0.0)
"""Seconds between looks for a reply's id a feedback invoke names (last: no wait after the last look). Two
seconds in all: the link is filed on a worker thread after the send returns, and under load (a stress run
beside the test suite on two cores) half a second once was not enough, so a vote was stored unattributed."""
_FEEDBACK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LEADING_MENTION = re.compile(r"^\s*<at\b[^>]*>.*?</at\s*>", re.IGNORECASE | re.DOTALL)
_AT_TAG = re.compile(r"</?\s*at\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


class _RawEntity(Entity):
    """An entity sent exactly as given: botbuilder's `Entity` would drop `@type`, `citation` …"""

    _attribute_map = {
        "type": {"key": "type", "type": "str"},
        "additional_properties": {"key": "", "type": "{object}"},
    }


def to_activity(payload: dict[str, Any]) -> Activity:
    """A renderer's JSON as an SDK `Activity`, entities intact."""
    payload = dict(payload)
    entities = payload.pop("entities", None) or []
    activity = Activity().deserialize(payload)
    if entities:
        activity.entities = []
        for raw in entities:
            entity = _RawEntity(type=raw["type"])
            entity.additional_properties = {k: v for k, v in raw.items() if k != "type"}
            activity.entities.append(entity)
    return activity


def user_id_of(activity: Activity) -> str:
    sender = activity.from_property
    return (getattr(sender, "aad_object_id", None) or getattr(sender, "id", None) or "unknown") if sender else "unknown"


def message_key(conversation_id: str, message_id: str) -> str:
    return f"teams:message:{base_conversation(conversation_id)}:{message_id}"


def _answer_id_in(channel_data: Any) -> str | None:
    """`channelData.guidebot.answerId`, as our answers carry it, when an invoke brings it back."""
    ours = channel_data.get("guidebot") if isinstance(channel_data, dict) else None
    answer_id = ours.get("answerId") if isinstance(ours, dict) else None
    return answer_id if isinstance(answer_id, str) and _FEEDBACK_ID.match(answer_id) else None


def feedback_text(raw: Any) -> str | None:
    """Teams sends the form's text as `{"feedbackText": …}`, as JSON text or as an object."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return clip(raw.strip(), FEEDBACK_COMMENT_MAX) or None
    if isinstance(raw, dict):
        raw = raw.get("feedbackText")
    if isinstance(raw, str) and raw.strip():
        return clip(raw.strip(), FEEDBACK_COMMENT_MAX)
    return None


class GuidebotTeamsBot(TeamsActivityHandler):
    def __init__(self, guidebot: Guidebot, public_url: str | None) -> None:
        self.guidebot = guidebot
        self.public_url = public_url
        self.handoffs: TeamsHandoffs | None = None
        """Hand-offs to the program team (`adapters.teams.handoff`), set by its `mount`."""

    async def on_turn(self, turn_context: TurnContext) -> None:
        if self.handoffs is not None:
            await self.handoffs.seen(turn_context.activity)  # the staff channel's reference, wherever the bot sees it
        await super().on_turn(turn_context)

    # --- messages -----------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value.get("action") == FEEDBACK_ACTION:
            await self._card_feedback(turn_context, activity.value)
            return
        if self.handoffs is not None and await self.handoffs.on_message(turn_context):
            return
        await self._answer(turn_context)

    async def _answer(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = self.question_text(activity)
        inbound = Inbound(
            text=text,
            platform=PLATFORM,
            user_id=user_id_of(activity),
            member_hash=turn_context.turn_state.get(RECOVERED_MEMBER),  # a recovered question's lease kept only the hash
            conversation_id=activity.conversation.id,
            thread_key=f"teams:{activity.conversation.id}",
        )
        reply = await self.guidebot.respond_async(inbound)
        if isinstance(reply, Summary):
            summary = reply
            card = await asyncio.to_thread(
                lambda: to_activity(summary_activity(summary, self.public_url, feedback_id=new_answer_id(), command=clip(text, 200)))
            )
            await turn_context.send_activity(card)
            return
        await self._send_answer(turn_context, reply)

    async def _send_answer(self, turn_context: TurnContext, answer: Answer) -> None:
        """The sent reply's id is linked to its answer id (`Guidebot.link_message`, purged with the question
        log), which Teams' feedback invoke points back to with `replyToId`. Rendering runs on a thread,
        off the event loop that acks."""
        activity = turn_context.activity

        def render() -> tuple[Activity, bool]:
            payload = answer_activity(answer, self.public_url)
            return to_activity(payload), "channelData" in payload

        reply, with_feedback = await asyncio.to_thread(render)
        sent: ResourceResponse | None = await turn_context.send_activity(reply)
        reply_key = message_key(activity.conversation.id, sent.id) if with_feedback and sent is not None and sent.id else None
        await asyncio.to_thread(self._remember, lease_key(activity.conversation.id, activity.id), reply_key, answer.answer_id)
        if self.handoffs is not None:
            await self.handoffs.offer_after_answer(turn_context, answer)

    def _remember(self, lease: str | None, reply_key: str | None, answer_id: str) -> None:
        # Completed first, in the same hop as the send's return: until then a kill -9 would have
        # the inbox's recovery answer again.
        if lease is not None:
            self.guidebot.inbox.complete_now(lease)
        if reply_key is not None:
            self.guidebot.link_message(reply_key, answer_id)

    @staticmethod
    def question_text(activity: Activity) -> str:
        """The member's words: the bot's @mention removed, other mention tags dropped, entities decoded."""
        original = activity.text or ""
        try:
            text = TurnContext.remove_recipient_mention(activity) or ""
        except Exception:  # noqa: BLE001 - a malformed mention entity or a name the SDK's regex chokes on
            log.info("mention entity unreadable; removing the leading mention", extra={"activity_id": activity.id})
            activity.text = original
            text = _LEADING_MENTION.sub(" ", original)
        text = _AT_TAG.sub(" ", text)
        return _SPACES.sub(" ", html.unescape(text)).strip()

    # --- feedback -------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name == "message/submitAction":
            return await self._feedback_loop(turn_context)
        try:
            response = await super().on_invoke_activity(turn_context)
        except DeserializationError:
            # The SDK reads the value of the invokes it routes (task/fetch …) into its models first.
            log.info("invoke with a malformed value refused", extra={"activity_id": turn_context.activity.id})
            return InvokeResponse(status=400, body={"error": "the invoke's value is malformed"})
        if response is not None and response.status == HTTPStatus.NOT_IMPLEMENTED:
            # An invoke this bot never asked for (its manifest declares no such feature): a client error.
            return InvokeResponse(status=400, body={"error": "this bot does not handle that invoke"})
        return response

    async def _feedback_loop(self, turn_context: TurnContext) -> InvokeResponse:
        """Teams' own 👍 / 👎: answered with 200 and an empty body, as Teams requires."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        if value.get("actionName") != "feedback":
            return InvokeResponse(status=200, body={})
        action = value.get("actionValue")
        if not isinstance(action, dict):
            action = {}
        reaction = REACTIONS.get(str(action.get("reaction", "")).lower())
        if reaction is None:
            return InvokeResponse(status=400, body={"error": "actionValue.reaction must be like or dislike"})
        answer_id = await self._answer_for(activity)
        user, comment = user_id_of(activity), feedback_text(action.get("feedback"))
        if answer_id is None:
            log.info("feedback stored unattributed: the invoke does not say which answer", extra={"activity_id": activity.id})
            ref = f"{base_conversation(activity.conversation.id)}:{activity.id or new_answer_id()}"
            await asyncio.to_thread(self.guidebot.record_unattributed_feedback, ref, user, PLATFORM, reaction, comment)
            return InvokeResponse(status=200, body={})
        await asyncio.to_thread(self.guidebot.record_feedback, answer_id, user, PLATFORM, reaction, comment)
        if reaction == "down" and self.handoffs is not None:
            await self.handoffs.offer_after_vote(activity, answer_id)
        return InvokeResponse(status=200, body={})

    async def _answer_for(self, activity: Activity) -> str | None:
        """The answer a feedback invoke is about, only when it can be told for certain: the message it
        points at (`replyToId`), else the answer id our reply carried in `channelData`. Never the
        member's latest answer: the one rated may be an earlier one."""
        if activity.reply_to_id:
            key = message_key(activity.conversation.id, activity.reply_to_id)
            # The reply's id is filed a moment after Teams took the reply: a vote that quick waits for it.
            for delay in REPLY_ID_WAITS:
                found = await asyncio.to_thread(self.guidebot.answer_for_message, key)
                if found is not None:
                    return found
                await asyncio.sleep(delay)
        answer_id = _answer_id_in(activity.channel_data)
        if answer_id is not None and await asyncio.to_thread(self.guidebot.knows_answer, answer_id):
            return answer_id
        return None

    async def _card_feedback(self, turn_context: TurnContext, data: dict[str, Any]) -> None:
        activity = turn_context.activity
        feedback_id, value, command = data.get("feedbackId"), data.get("value"), data.get("command")
        if not isinstance(feedback_id, str) or not _FEEDBACK_ID.match(feedback_id) or value not in ("up", "down"):
            log.info("card feedback ignored: malformed data", extra={"activity_id": activity.id})
            return
        await asyncio.to_thread(self.guidebot.record_feedback, feedback_id, user_id_of(activity), PLATFORM, value)
        summary = await asyncio.to_thread(self.guidebot.summary_for, command) if isinstance(command, str) else None
        if summary is None or not isinstance(command, str) or not activity.reply_to_id:
            await turn_context.send_activity(to_activity(thanks_activity()))
            return
        payload = summary_activity(summary, self.public_url, feedback_id=feedback_id, command=command, thanked=value)
        updated = to_activity(payload)
        updated.id = activity.reply_to_id
        await turn_context.update_activity(updated)

    # --- welcome ----------------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        """The bot itself was added: welcome. Nobody else's arrival needs anything.

        botbuilder's own dispatch first looks every other new member up on the connector
        (`TeamsInfo.get_member`), for a welcome this bot never sends them; when the connector
        answers that lookup with an error page (a 5xx, a proxy's HTML), msrest raised out of
        the turn. No lookup, nothing to fail.
        """
        bot: ChannelAccount | None = turn_context.activity.recipient
        if bot is not None and bot.id and any(getattr(m, "id", None) == bot.id for m in members_added or ()):
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        """Installing sends both installationUpdate and conversationUpdate: welcome once."""
        key = f"teams:welcome:{base_conversation(turn_context.activity.conversation.id)}"
        if not await self.guidebot.inbox.claim_once(key, WELCOME_TTL):
            return
        try:
            await turn_context.send_activity(to_activity(welcome_activity(HELP_EXAMPLES)))
        except DeliveryFailed:
            # Logged once where it failed (`with_retries`); the welcome is not worth failing the turn
            # for, and its claim stays taken, so the install's second activity does not send it again.
            return
