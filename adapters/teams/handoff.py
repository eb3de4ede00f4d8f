"""Teams' part in hand-offs: the member's "Ask the program team" card and its press, the staff's replies
to a hand-off's post (a reply in its chain that @mentions the bot, or the card's reply field), and
`TeamsMessenger`, which the core's desk uses to post in Teams (the staff channel, or a Teams member's
conversation) proactively, through the same connector, service-URL allowlist and retries as answers.

`TeamsHandoffs.mount(bot, guidebot, adapter, …)` puts the messenger in `Guidebot.messengers["teams"]` and
hands the bot its listeners. A Teams staff channel can only be posted to once the bot has seen it (its
service URL is regional): every activity the bot gets there (it is added to the team, anyone @mentions it)
is kept through `Guidebot.remember_conversation`. A press and a staff reply are in the database before
Teams gets its response; posting and relaying are the desk's durable work.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from adapters.background import Background
from adapters.teams import handoff_cards as cards
from adapters.teams.answering import ServiceUrls, base_conversation
from adapters.teams.bot import PLATFORM, message_key, to_activity
from adapters.teams.delivery import DeliveryFailed
from adapters.teams.replies import failure_activity
from bot.answer import Answer
from bot.handoff import Failure, Handoff, HandoffError, Sent, StaffPost, StaffReply, is_relay_answer, relay_answer_id, staff_place
from bot.metrics import ERRORS
from bot.service import UNATTRIBUTED_PREFIX, Guidebot

log = logging.getLogger(__name__)

OFFER_TTL = 86_400
"""One "Ask the program team" card per answer: under its refusal, or after its first 👎."""
_CHAIN = ";messageid="
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"</(p|div|li|h\d)\s*>", re.IGNORECASE)
_LINK = re.compile(r"<a\b[^>]*?href=\"([^\"]*)\"[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BLANK_LINES = re.compile(r"\n{3,}")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _offer_key(answer_id: str) -> str:
    return f"teams:handoff-offer:{answer_id}"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def chain_root(conversation_id: str | None) -> str | None:
    """The root message of a channel reply chain (`<channel>;messageid=<root>`), or None."""
    return _str((conversation_id or "").partition(_CHAIN)[2])


def post_key(channel: str, root: str) -> str:
    """The staff post's key: a reply in its chain (`<channel>;messageid=<post id>`) names it the same way."""
    return f"teams:{channel}:{root}"


def reference_of(activity: Activity) -> dict[str, Any]:
    """Where to post in `activity`'s conversation unprompted, as JSON: what a proactive turn needs, and no
    member's id or name (the bot's own account and the tenant only)."""
    conversation, bot = activity.conversation, activity.recipient
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = _mapping(channel_data.get("tenant"))
    return {
        "serviceUrl": activity.service_url,
        "channelId": activity.channel_id or "msteams",
        "conversation": {
            "id": conversation.id if conversation else None,
            "conversationType": getattr(conversation, "conversation_type", None),
            "isGroup": getattr(conversation, "is_group", None),
        },
        "bot": {"id": getattr(bot, "id", None), "name": getattr(bot, "name", None)},
        "tenantId": _str(tenant.get("id")) or getattr(conversation, "tenant_id", None),
    }


def _continuation(ref: Mapping[str, Any], conversation_id: str, reply_to: str | None) -> Activity:
    """The activity a proactive turn runs on: sends in it go to `conversation_id` (replying to `reply_to`)."""
    conversation, bot = _mapping(ref.get("conversation")), _mapping(ref.get("bot"))
    tenant = _str(ref.get("tenantId"))
    return Activity(
        type="event",
        name="ContinueConversation",
        id=reply_to,
        channel_id=_str(ref.get("channelId")) or "msteams",
        service_url=ref.get("serviceUrl"),
        conversation=ConversationAccount(
            id=conversation_id, conversation_type=conversation.get("conversationType"), is_group=conversation.get("isGroup"), tenant_id=tenant
        ),
        recipient=ChannelAccount(id=bot.get("id"), name=bot.get("name")),
        channel_data={"tenant": {"id": tenant}} if tenant else None,
    )


def _link_text(match: re.Match[str]) -> str:
    """A link as text: its label and address ("the form (https://…)"); a mail or phone link, its label."""
    target, label = html.unescape(match.group(1)), _TAG.sub("", match.group(2)).strip()
    if target.startswith(("mailto:", "tel:")):
        return label or target.partition(":")[2]
    return target if not label or label == target else f"{label} ({target})"


def staff_reply_text(activity: Activity) -> str:
    """A staff reply as plain text: the bot's @mention removed, Teams' HTML read (a link keeps its address,
    paragraphs stay apart), character references decoded."""
    text = activity.text or ""
    bot_id = getattr(activity.recipient, "id", None)
    for entity in activity.entities or ():
        extra = _mapping(getattr(entity, "additional_properties", None))
        mention = _str(extra.get("text"))
        if getattr(entity, "type", None) == "mention" and mention and _mapping(extra.get("mentioned")).get("id") == bot_id:
            text = text.replace(mention, " ")
    text = _LINK.sub(_link_text, text)
    text = _PARAGRAPH_END.sub("\n\n", _BREAK.sub("\n", text))
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class TeamsMessenger:
    """`bot.handoff.Messenger` on the Bot Framework connector: every post is a proactive turn."""

    platform = PLATFORM

    def __init__(self, guidebot: Guidebot, adapter: Any, app_id: str | None, service_urls: ServiceUrls) -> None:
        self.guidebot = guidebot
        self.adapter = adapter
        self.app_id = app_id or None
        self.service_urls = service_urls

    async def _turn(self, what: str, ref: Mapping[str, Any], conversation_id: str, reply_to: str | None,
                    do: Callable[[TurnContext], Awaitable[Any]]) -> Any | Failure:
        """Run `do` in a proactive turn in `conversation_id`; its result, or how it failed."""
        problem = self.service_urls.problem(ref.get("serviceUrl"))
        if problem is not None:
            ERRORS.labels(PLATFORM).inc()
            log.error("teams: %s refused: %s", what, problem)
            return "refused"
        outcome: dict[str, Any] = {}

        async def logic(context: TurnContext) -> None:
            try:
                outcome["value"] = await do(context)
            except DeliveryFailed as failed:  # logged where it failed
                outcome["failed"] = "unavailable" if failed.transient else "refused"

        try:
            identity = self.adapter.create_claims_identity(self.app_id or "")
            await self.adapter.process_proactive(identity, _continuation(ref, conversation_id, reply_to), None, logic)
        except Exception:  # the connector could not be reached or built: try again later
            ERRORS.labels(PLATFORM).inc()
            log.exception("teams: %s failed", what)
            return "unavailable"
        if "failed" in outcome:
            return outcome["failed"]
        return outcome.get("value", "refused")

    async def send(self, what: str, ref: Mapping[str, Any], payload: dict[str, Any], *, conversation_id: str | None = None,
                   reply_to: str | None = None) -> str | Failure:
        """Post `payload` in `ref`'s conversation (or `conversation_id`): the new message's id, or how it failed."""
        conversation = _mapping(ref.get("conversation"))
        target = conversation_id or _str(conversation.get("id"))
        if target is None:
            return "refused"

        async def send(context: TurnContext) -> str:
            sent = await context.send_activity(to_activity(payload))
            return (sent.id if sent is not None else None) or ""

        return await self._turn(what, ref, target, reply_to, send)

    async def post_handoff(self, place: str, handoff: Handoff) -> StaffPost | Failure:
        ref = await asyncio.to_thread(self.guidebot.conversation_ref, PLATFORM, place)
        if ref is None:
            log.warning("teams: hand-off %s waits: the bot has not seen the staff channel yet (add it to the team, or @mention it there)", handoff.id)
            return "unavailable"
        posted = await self.send(f"posting hand-off {handoff.id}", ref, cards.staff_post_activity(handoff), conversation_id=place)
        if posted in ("refused", "unavailable"):
            return posted
        if not posted:
            return "refused"
        return StaffPost(PLATFORM, post_key(place, posted), {**ref, "channel": place, "postId": posted})

    async def relay(self, handoff: Handoff, reply: StaffReply, *, number: int) -> Sent:
        answer_id = relay_answer_id(handoff.id, number)
        sent = await self.send(f"relaying to hand-off {handoff.id}", handoff.reply_to, cards.relay_activity(reply, answer_id, number=number))
        if sent in ("refused", "unavailable"):
            return sent
        conversation = handoff.reply_to.get("conversation")
        conversation_id = conversation.get("id") if isinstance(conversation, Mapping) else None
        if sent and isinstance(conversation_id, str):
            try:  # Teams' 👍 / 👎 point back at the message: file which relay it is
                await asyncio.to_thread(self.guidebot.link_message, message_key(conversation_id, sent), answer_id)
            except Exception:  # noqa: BLE001 - delivered all the same; a vote on it is stored unattributed
                log.warning("teams: could not file relay %s's message", answer_id)
        return "delivered"

    def _post_of(self, handoff: Handoff) -> tuple[Mapping[str, Any], str, str] | None:
        post = handoff.staff_post
        if post is None or post.platform != PLATFORM:
            return None
        channel, post_id = _str(post.ref.get("channel")), _str(post.ref.get("postId"))
        return (post.ref, channel, post_id) if channel and post_id else None

    async def show_state(self, handoff: Handoff) -> Sent:
        found = self._post_of(handoff)
        if found is None:
            return "refused"
        ref, channel, post_id = found

        async def update(context: TurnContext) -> str:
            updated = to_activity(cards.staff_post_activity(handoff))
            updated.id = post_id
            await context.update_activity(updated)
            return "delivered"

        return await self._turn(f"updating hand-off {handoff.id}'s post", ref, f"{channel}{_CHAIN}{post_id}", None, update)

    async def notify(self, handoff: Handoff, text: str) -> Sent:
        found = self._post_of(handoff)
        if found is None:
            return "refused"
        ref, channel, post_id = found
        sent = await self.send(f"telling the staff about {handoff.id}", ref, cards.notice_activity(text),
                               conversation_id=f"{channel}{_CHAIN}{post_id}", reply_to=post_id)
        return sent if sent in ("refused", "unavailable") else "delivered"


class TeamsHandoffs:
    """The listeners behind "Ask the program team", staff replies and "Add to the guide" on Teams."""

    def __init__(self, guidebot: Guidebot, adapter: Any, *, app_id: str | None, service_urls: ServiceUrls) -> None:
        self.guidebot = guidebot
        self.desk = guidebot.handoffs
        place = staff_place(guidebot.settings.staff_channel)
        self.staff_channel = place.place if place is not None and place.platform == PLATFORM else None
        self.messenger = TeamsMessenger(guidebot, adapter, app_id, service_urls)
        self.background = Background("teams")

    @classmethod
    def mount(cls, bot: Any, guidebot: Guidebot, adapter: Any, *, app_id: str | None, service_urls: ServiceUrls) -> TeamsHandoffs:
        """Register the messenger, and give the bot (`GuidebotTeamsBot`) its hand-off listeners."""
        handoffs = cls(guidebot, adapter, app_id=app_id, service_urls=service_urls)
        guidebot.messengers[PLATFORM] = handoffs.messenger
        bot.handoffs = handoffs
        return handoffs

    async def start(self) -> None:
        await self.desk.start()

    async def close(self) -> None:
        await self.background.close()
        await self.desk.close()

    # ------------------------------------------------------------ the staff channel's reference

    def in_staff_channel(self, conversation_id: str | None) -> bool:
        return self.staff_channel is not None and base_conversation(conversation_id or "") == self.staff_channel

    def is_staff_reply(self, body: Mapping[str, Any]) -> bool:
        """A message in a reply chain of the staff channel (not its root): a reply to a hand-off, or staff
        talk; never a question. Read from the raw activity, before the endpoint leases questions."""
        conversation = body.get("conversation")
        conversation_id = conversation.get("id") if isinstance(conversation, Mapping) else None
        root = chain_root(conversation_id)
        return self.in_staff_channel(conversation_id) and root is not None and root != body.get("id")

    async def seen(self, activity: Activity) -> None:
        """Keep the staff channel's reference from any activity there, so hand-offs can be posted to it."""
        conversation_id = activity.conversation.id if activity.conversation else None
        if not self.in_staff_channel(conversation_id) or not activity.service_url or self.staff_channel is None:
            return
        ref = reference_of(activity)
        ref["conversation"]["id"] = self.staff_channel
        try:
            await asyncio.to_thread(self.guidebot.remember_conversation, PLATFORM, self.staff_channel, ref)
        except Exception:  # noqa: BLE001 - the next activity there tries again
            log.warning("teams: could not keep the staff channel's reference", extra={"activity_id": activity.id})

    # ------------------------------------------------------------ routing

    async def on_message(self, turn_context: TurnContext) -> bool:
        """Take a message that is the hand-offs' (a card press, a staff reply); False for anything else."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action")
        if action == cards.ASK_TEAM_ACTION:
            await self.ask(turn_context, value)
            return True
        if action == cards.STAFF_REPLY_ACTION and self.in_staff_channel(activity.conversation.id):
            text = value.get(cards.REPLY_INPUT)
            if isinstance(text, str) and text.strip():
                digest = hashlib.sha256(text.strip().encode()).hexdigest()[:16]  # a second press of the same reply is the same reply
                await self._staff_reply(turn_context, text.strip(), f"submit:{digest}")
            return True
        if action == cards.PUBLISH_ACTION and self.in_staff_channel(activity.conversation.id):
            await self._publish(turn_context, value.get("handoffId"))
            return True
        root = chain_root(activity.conversation.id)
        if self.in_staff_channel(activity.conversation.id) and root is not None and root != activity.id:
            text = staff_reply_text(activity)
            if text:
                await self._staff_reply(turn_context, text, activity.id or "")
            return True
        return False

    # ------------------------------------------------------------ the member

    async def offer_after_answer(self, turn_context: TurnContext, answer: Answer) -> None:
        """Under a refusal ("the guide doesn't cover it"): the card offering the program team."""
        if not self.desk.enabled or not answer.abstained or answer.reason != "out_of_scope" or not answer.answer_id:
            return
        if not await self.guidebot.inbox.claim_once(_offer_key(answer.answer_id), OFFER_TTL):
            return  # offered already (a recovered turn, or a 👎 on this refusal comes later)
        try:
            await turn_context.send_activity(to_activity(cards.ask_team_activity(answer.answer_id)))
        except DeliveryFailed:
            return  # logged where it failed; the refusal itself was delivered

    async def offer_after_vote(self, activity: Activity, answer_id: str) -> None:
        """After a 👎 on an answer (not on a team reply): the card, once per answer, sent after Teams' response."""
        if not self.desk.enabled or is_relay_answer(answer_id) or answer_id.startswith(UNATTRIBUTED_PREFIX):
            return
        if not await self.guidebot.inbox.claim_once(_offer_key(answer_id), OFFER_TTL):
            return
        ref = reference_of(activity)
        self.background.spawn(self.messenger.send("offering the program team", ref, cards.ask_team_activity(answer_id), reply_to=activity.reply_to_id))

    async def ask(self, turn_context: TurnContext, value: Mapping[str, Any]) -> None:
        """"Ask the program team": the hand-off recorded, then the card redrawn as the confirmation."""
        activity = turn_context.activity
        answer_id = _str(value.get("answerId"))
        if answer_id is None:
            return
        sender = activity.from_property
        name = _str(getattr(sender, "name", None)) or "A Teams member"
        try:
            await self.desk.hand_off(answer_id, member_name=name, member_platform=PLATFORM, reply_to=reference_of(activity))
            text = cards.SENT_NOTE
        except HandoffError as error:
            log.info("teams: no hand-off (%s)", error.reason, extra={"activity_id": activity.id})
            text = "The program team can't be reached from here just now." if error.reason == "disabled" else "This question can't be sent to the program team any more: please ask it again."
        except Exception:  # the press's boundary: counted, logged, the member told
            ERRORS.labels(PLATFORM).inc()
            log.exception("teams: could not hand off answer %s", answer_id, extra={"activity_id": activity.id})
            await self._say(turn_context, failure_activity())
            return
        shown = to_activity(cards.sent_activity(text))
        try:
            if activity.reply_to_id:
                shown.id = activity.reply_to_id
                await turn_context.update_activity(shown)
            else:
                await turn_context.send_activity(shown)
        except DeliveryFailed:
            return  # the hand-off is made; only its confirmation was lost (logged where it failed)

    # ------------------------------------------------------------ the staff

    async def _staff_reply(self, turn_context: TurnContext, text: str, reply_ref: str) -> None:
        activity = turn_context.activity
        channel = self.staff_channel
        root = chain_root(activity.conversation.id) or activity.reply_to_id
        if channel is None or root is None:
            return
        who = _str(getattr(activity.from_property, "name", None)) or "The program team"
        try:
            taken = await self.desk.staff_replied(post_key(channel, root), reply_key=f"teams:{channel}:{reply_ref}", who=who, text=text)
        except Exception:  # the reply's boundary: counted, logged, the staff told in the chain
            ERRORS.labels(PLATFORM).inc()
            log.exception("teams: could not take a staff reply", extra={"activity_id": activity.id})
            await self._say(turn_context, cards.notice_activity("guidebot could not take this reply just now. Send it again in a minute."))
            return
        if taken:
            log.info("teams: staff reply taken for relaying", extra={"activity_id": activity.id})

    async def _publish(self, turn_context: TurnContext, handoff_id: object) -> None:
        if not isinstance(handoff_id, str) or not handoff_id:
            return
        try:
            handoff, path = await self.desk.publish(handoff_id)
            text = f"Added to the guide ({path.name}) as “{handoff.published_title}”. The next guidebot index answers from it."
        except HandoffError as error:
            text = "There is no reply to add yet: reply to this post first." if error.reason == "no_reply" else f"Not added: {error}."
        except Exception:  # the press's boundary: counted, logged, the staff told
            ERRORS.labels(PLATFORM).inc()
            log.exception("teams: could not publish hand-off %s", handoff_id)
            text = f"Could not add this reply to the guide. Try guidebot handoffs publish {handoff_id}."
        await self._say(turn_context, cards.notice_activity(text))

    @staticmethod
    async def _say(turn_context: TurnContext, payload: dict[str, Any]) -> None:
        try:
            await turn_context.send_activity(to_activity(payload))
        except DeliveryFailed:
            return  # logged where it failed
