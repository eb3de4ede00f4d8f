"""Slack's part in hand-offs: the member's "Ask the program team" click, the staff's replies in a
hand-off's thread and "Add to the guide" click, and `SlackMessenger`, which the core's desk uses to
post in Slack (the staff channel, or a Slack member's conversation).

`SlackHandoffs.mount(bolt, guidebot, delivery, background)` registers the listeners (before the
question listeners, so that a staff reply in a hand-off's thread is never taken for a question) and
puts the messenger in `Guidebot.messengers["slack"]`. Like the feedback click, a hand-off and a staff
reply are in the database before Slack gets its ack; posting and relaying are the desk's durable work.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.background import Background
from adapters.slack import handoff_blocks as blocks
from adapters.slack.delivery import BLOCK_ERRORS, TRANSPORT_ERRORS, Delivery, _error_code, _unavailable
from adapters.slack.render import STYLES, failure_message
from adapters.slack.text import question_text, unescape
from adapters.slack.work import PLATFORM
from bot.handoff import Failure, Handoff, HandoffError, Sent, StaffPost, StaffReply, relay_answer_id, staff_place
from bot.metrics import ERRORS
from bot.service import Guidebot

log = logging.getLogger(__name__)

NAME_LOOKUP_SECONDS = 1.5
"""How long a display-name look-up (or opening a DM) may take before the ack goes without it (Slack wants one in 3 s)."""
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast"})
_CONTROL = re.compile(r"<([^<>]*)>")
_BLANK_LINES = re.compile(r"\n{3,}")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class SlackMessenger:
    """`bot.handoff.Messenger` on Slack's Web API."""

    platform = PLATFORM

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def _post(self, what: str, ref: str, **message: Any) -> dict[str, Any] | Failure:
        try:
            response = await self.client.chat_postMessage(unfurl_links=False, unfurl_media=False, **message)
            return dict(response.data) if isinstance(response.data, dict) else {}
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            ERRORS.labels("slack").inc()
            log.error("slack: %s failed for hand-off %s (%s)", what, ref, _error_code(error), extra={"event_id": ref})
            return "unavailable" if _unavailable(error) else "refused"

    async def post_handoff(self, place: str, handoff: Handoff) -> StaffPost | Failure:
        posted = await self._post("posting the hand-off", handoff.id, channel=place, **blocks.staff_post_message(handoff))
        if isinstance(posted, str):
            return posted
        ts, channel = _str(posted.get("ts")), _str(posted.get("channel")) or place
        if ts is None:
            return "refused"
        return StaffPost(PLATFORM, post_key(channel, ts), {"channel": channel, "ts": ts})

    async def relay(self, handoff: Handoff, reply: StaffReply, *, number: int) -> Sent:
        channel, thread = _str(handoff.reply_to.get("channel")), _str(handoff.reply_to.get("thread_ts"))
        if channel is None:
            return "refused"
        answer_id = relay_answer_id(handoff.id, number)
        for style in STYLES:
            try:
                await self.client.chat_postMessage(channel=channel, thread_ts=thread, **blocks.relay_message(reply, answer_id, number=number, style=style))
                return "delivered"
            except SlackApiError as error:
                if _error_code(error) in BLOCK_ERRORS and style != STYLES[-1]:
                    continue
                ERRORS.labels("slack").inc()
                log.error("slack: relaying to hand-off %s failed (%s)", handoff.id, _error_code(error), extra={"event_id": handoff.id})
                return "unavailable" if _unavailable(error) else "refused"
            except TRANSPORT_ERRORS as error:
                log.error("slack: relaying to hand-off %s failed (%s)", handoff.id, _error_code(error), extra={"event_id": handoff.id})
                return "unavailable"
        return "refused"

    async def show_state(self, handoff: Handoff) -> Sent:
        post = handoff.staff_post
        channel, ts = (_str(post.ref.get("channel")), _str(post.ref.get("ts"))) if post else (None, None)
        if channel is None or ts is None:
            return "refused"
        try:
            await self.client.chat_update(channel=channel, ts=ts, **blocks.staff_post_message(handoff))
            return "delivered"
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            log.warning("slack: could not update hand-off %s's post (%s)", handoff.id, _error_code(error), extra={"event_id": handoff.id})
            return "unavailable" if _unavailable(error) else "refused"

    async def notify(self, handoff: Handoff, text: str) -> Sent:
        post = handoff.staff_post
        channel, ts = (_str(post.ref.get("channel")), _str(post.ref.get("ts"))) if post else (None, None)
        if channel is None:
            return "refused"
        posted = await self._post("telling the staff", handoff.id, channel=channel, thread_ts=ts, reply_broadcast=True, **blocks.notice_message(text))
        return posted if isinstance(posted, str) else "delivered"


def reply_text(raw: str, bot_user_id: str | None = None) -> str:
    """A staff reply as plain text for the member and the guide: Slack's markup read like a question's
    (`question_text`), except that a link keeps its address ("the form (https://…)") and paragraphs stay apart."""

    def plain(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith(("http://", "https://")):
            return target if not label or label == target else f"{label} ({target})"
        if target.startswith(("mailto:", "tel:")):
            return label or target.partition(":")[2]
        return question_text(match.group(0), bot_user_id)

    text = unescape(_CONTROL.sub(plain, raw or ""))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def post_key(channel: str, ts: str) -> str:
    """The staff post's key: a reply in its thread (thread_ts = ts) names it the same way."""
    return f"slack:{channel}:{ts}"


class SlackHandoffs:
    """The listeners behind "Ask the program team", staff replies and "Add to the guide"."""

    def __init__(self, guidebot: Guidebot, delivery: Delivery, background: Background) -> None:
        self.guidebot = guidebot
        self.desk = guidebot.handoffs
        self.delivery = delivery
        self.background = background
        place = staff_place(guidebot.settings.staff_channel)
        self.staff_channel = place.place if place is not None and place.platform == PLATFORM else None
        self.messenger = SlackMessenger(delivery.client)

    @classmethod
    def mount(cls, bolt: AsyncApp, guidebot: Guidebot, delivery: Delivery, background: Background) -> SlackHandoffs:
        """Register the listeners (call before the question listeners) and the messenger."""
        handoffs = cls(guidebot, delivery, background)
        guidebot.messengers[PLATFORM] = handoffs.messenger
        delivery.ask_team = handoffs.desk.enabled
        bolt.event("message", matchers=[handoffs.in_staff_thread])(handoffs.staff_message)
        bolt.event("app_mention", matchers=[handoffs.in_staff_thread])(handoffs.staff_mention)
        bolt.action(blocks.ASK_TEAM_ACTION)(handoffs.ask)
        bolt.action(blocks.PUBLISH_ACTION)(handoffs.publish)
        return handoffs

    async def _name(self, user: str | None, fallback: str) -> str:
        """A Slack member's display name (users.info, `users:read`), or `fallback` when Slack is slow or says no."""
        if not user:
            return fallback
        try:
            response = await asyncio.wait_for(self.delivery.client.users_info(user=user), NAME_LOOKUP_SECONDS)
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            log.info("slack: no display name (%s)", _error_code(error))
            return fallback
        found = response.get("user") if isinstance(response.data, dict) else None
        profile = found.get("profile") if isinstance(found, dict) else None
        names = [profile.get("display_name"), profile.get("real_name")] if isinstance(profile, dict) else []
        names += [found.get("real_name"), found.get("name")] if isinstance(found, dict) else []
        return next((n.strip() for n in names if isinstance(n, str) and n.strip()), fallback)

    # ------------------------------------------------------------ the member

    async def ask(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """"Ask the program team": record the hand-off, then ack, then confirm in place."""
        answer_id = _str(action.get("value"))
        user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
        user_id = _str(user.get("id"))
        ref = _str(body.get("trigger_id")) or "ask-team"
        response_url = _str(body.get("response_url"))
        message: dict[str, Any] | None = body["message"] if isinstance(body.get("message"), dict) else None
        container: dict[str, Any] = body["container"] if isinstance(body.get("container"), dict) else {}
        channel = body.get("channel")
        channel_id = _str(channel.get("id")) if isinstance(channel, dict) else _str(container.get("channel_id"))
        if answer_id is None or user_id is None or channel_id is None:
            await ack()
            log.info("slack: ignored an ask-the-team click without what it needs", extra={"event_id": ref})
            return
        ephemeral = bool(container.get("is_ephemeral")) or message is None
        try:
            reply_to = await self._reply_to(channel_id, message, user_id, ephemeral)
            name = await self._name(user_id, _str(user.get("name")) or _str(user.get("username")) or "A Slack member")
            await self.desk.hand_off(answer_id, member_name=name, member_platform=PLATFORM, reply_to=reply_to)
        except HandoffError as error:
            await ack()
            log.info("slack: no hand-off (%s)", error.reason, extra={"event_id": ref})
            if response_url:
                text = "The program team can't be reached from here just now." if error.reason == "disabled" else "This question can't be sent to the program team any more: please ask it again."
                self._say(response_url, blocks.notice_message(text), ref)
            return
        except Exception:  # the click's boundary: counted, logged, the member told
            await ack()
            ERRORS.labels("slack").inc()
            log.exception("slack: could not hand off answer %s", answer_id, extra={"event_id": ref})
            if response_url:
                self._say(response_url, failure_message(), ref)
            return
        await ack()
        self.background.spawn(self._confirm(channel_id, message, ephemeral, response_url, ref))

    async def _reply_to(self, channel: str, message: dict[str, Any] | None, user_id: str, ephemeral: bool) -> dict[str, Any]:
        """Where the program team's reply goes: the answer's thread, the DM, or (for a private reply such as
        /guide's) a DM with the member. The member's Slack id is not kept, only where to post."""
        if ephemeral or message is None:
            opened = await asyncio.wait_for(self.delivery.client.conversations_open(users=user_id), NAME_LOOKUP_SECONDS)
            dm = opened.get("channel") if isinstance(opened.data, dict) else None
            dm_id = _str(dm.get("id")) if isinstance(dm, dict) else None
            if dm_id is None:
                raise HandoffError("no_conversation", "no DM with the member")
            return {"channel": dm_id, "thread_ts": None}
        thread = _str(message.get("thread_ts"))
        if thread is None and not channel.startswith("D"):
            thread = _str(message.get("ts"))  # a channel answer posted at the top: reply under it
        return {"channel": channel, "thread_ts": thread}

    async def _confirm(self, channel: str, message: dict[str, Any] | None, ephemeral: bool, response_url: str | None, ref: str) -> None:
        ts = _str(message.get("ts")) if message else None
        if message is not None and ts and not ephemeral:
            shown: list[dict[str, Any]] = message["blocks"] if isinstance(message.get("blocks"), list) else []
            text = _str(message.get("text")) or blocks.SENT_NOTE
            if await self.delivery.update(channel=channel, ts=ts, text=text, blocks=blocks.with_sent_note(shown), ref=ref):
                return
        if response_url:
            await self.delivery.respond_message(response_url, blocks.sent_message(), ref=ref, response_type="ephemeral", replace_original=False)

    def _say(self, response_url: str, message: dict[str, Any], ref: str) -> None:
        self.background.spawn(self.delivery.respond_message(response_url, message, ref=ref, response_type="ephemeral", replace_original=False))

    # ------------------------------------------------------------ the staff

    async def in_staff_thread(self, body: dict[str, Any]) -> bool:
        """Bolt matcher: a message in a thread of the staff channel (a reply to a hand-off, or staff talk)."""
        event = body.get("event")
        if not isinstance(event, dict) or self.staff_channel is None:
            return False
        thread, ts = _str(event.get("thread_ts")), _str(event.get("ts"))
        return event.get("channel") == self.staff_channel and thread is not None and thread != ts

    async def staff_mention(self, ack: AsyncAck) -> None:
        """An @mention in a staff thread is not a question for guidebot: its `message` event is the reply."""
        await ack()

    async def staff_message(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        """A reply in a hand-off's thread: recorded for relaying before the ack (Slack never resends it after)."""
        user = _str(event.get("user"))
        if event.get("subtype") not in HUMAN_SUBTYPES or event.get("bot_id") or user is None or user == context.bot_user_id:
            await ack()
            return
        channel, thread, ts = str(event["channel"]), str(event["thread_ts"]), str(event["ts"])
        text = reply_text(_str(event.get("text")) or "", context.bot_user_id)
        ref = _str(body.get("event_id")) or f"{channel}:{ts}"
        if not text.strip():
            await ack()
            return
        try:
            who = await self._name(user, "The program team")
            taken = await self.desk.staff_replied(post_key(channel, thread), reply_key=post_key(channel, ts), who=who, text=text)
        except Exception:  # the event's boundary: counted, logged, the staff told in the thread
            ERRORS.labels("slack").inc()
            log.exception("slack: could not take a staff reply", extra={"event_id": ref})
            await ack()
            self.background.spawn(self.delivery.post_failure(channel=channel, thread_ts=thread, user=user, ref=ref))
            return
        await ack()
        if taken:
            log.info("slack: staff reply taken for relaying", extra={"event_id": ref})

    async def publish(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """"Add to the guide" on a staff post: the reply goes into program-team-answers.md."""
        await ack()
        handoff_id = _str(action.get("value"))
        response_url = _str(body.get("response_url"))
        ref = _str(body.get("trigger_id")) or "publish"
        if handoff_id is None:
            return
        self.background.spawn(self._publish(handoff_id, response_url, ref))

    async def _publish(self, handoff_id: str, response_url: str | None, ref: str) -> None:
        try:
            handoff, path = await self.desk.publish(handoff_id)
            text = f"Added to the guide ({path.name}) as “{handoff.published_title}”. The next `guidebot index` answers from it."
        except HandoffError as error:
            text = "There is no reply to add yet: reply in this thread first." if error.reason == "no_reply" else f"Not added: {error}."
        except Exception:  # the click's boundary: counted, logged, the staff told
            ERRORS.labels("slack").inc()
            log.exception("slack: could not publish hand-off %s", handoff_id, extra={"event_id": ref})
            text = "Could not add this reply to the guide. Try `guidebot handoffs publish " + handoff_id + "`."
        if response_url:
            await self.delivery.respond_message(response_url, blocks.notice_message(text), ref=ref, response_type="ephemeral", replace_original=False)

