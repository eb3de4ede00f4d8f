"""A member's question is leased, acknowledged, then answered: Teams never waits on the encoder.

Teams waits 15 seconds for the HTTP response to an activity and resends one it
got no 2xx for; an answer can queue behind dozens of others. So a question is
accepted into the core's inbox (`bot.inbox`, keyed by conversation and activity
id, holding what is needed to answer it: `Lease`), Teams gets its 200 at once,
and the turn runs here in the background with the request's own credentials.
`Answering` is the inbox's flow for Teams questions: it says how a lease is
written and read back and how a recovered one is answered; leasing, completing
and recovering are the inbox's.

- A resend of a question already leased (Teams' retry, a replay, another
  replica) gets 200 and is not answered again.
- A replica that dies mid-answer leaves its lease to lapse; the inbox's recovery
  (every replica, at start-up and then every so often) takes it over and answers from
  the stored projection as a proactive turn, so an acknowledged question is not
  lost. A reply the connector accepted in the instant before the kill, before
  its lease was completed, is sent again: Teams offers a bot no way to read the
  conversation back, so delivery across a crash is at least once.
- A reply the connector still refuses for now after its retries (429, 5xx,
  unreachable) is left the same way, to be tried again by `recover` once the
  lease lapses, at most `recovery_attempts` times; one it refuses outright (4xx)
  is logged and not retried.
- The lease holds a projection of the activity, never the activity: the ids a
  reply needs (conversation, activity, bot, tenant, service URL), the member as
  a keyed hash, and the text cut to `max_question_chars` and redacted when it
  looks like it holds patient details (both done by the inbox before it writes).
  No name, no raw member id, no attachment (Teams sends an HTML copy of the
  message as one). Only this replica's live answer sees the question as typed.
- The lease also holds the app id the request was authenticated for: recovery
  replays a lease with the app's credentials only when that is this replica's
  app id and its service URL is one the app may post to (`ServiceUrls`); any
  other is given up and counted (`guidebot_teams_recovery_abandoned`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes
from botframework.connector.auth import AuthenticateRequestResult, AuthenticationConstants
from prometheus_client import Counter

from adapters.background import Background
from adapters.teams.delivery import DeliveryFailed
from bot.inbox import Flow, Inbox, Outcome, storable_text
from bot.metrics import ERRORS, REGISTRY

log = logging.getLogger(__name__)

WORK_PREFIX = "teams:activity:"
LEASE_SECONDS = 60
"""Longer than an answer can take: the wait for the encoder under load, then connector retries."""
RECOVERED_MEMBER = "guidebot.recovered_member"
"""Set in a recovered turn's state: the member's hash, all its lease kept (the activity's `from.id` is that hash)."""
RECOVERY_ATTEMPTS = 3
LEASE_FORMAT = 2
PLATFORM = "teams"

RECOVERY_ABANDONED = Counter(
    "guidebot_teams_recovery_abandoned",
    "Teams questions left unanswered by a stopped replica that recovery gave up on, by reason "
    "(app_id: leased for another app or in local mode; service_url: not a host the app may post to; "
    "attempts: still undeliverable after the last try; unreadable: not a lease this version wrote)",
    ["reason"],
    registry=REGISTRY,
)


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
    # A card's button (👍 / 👎, "Ask the program team", a staff reply's "Send"): its data names a `guidebot.` action.
    return not (isinstance(value, Mapping) and str(value.get("action") or "").startswith("guidebot."))


class NotAnActivity(ValueError):
    """The body passed the endpoint's checks but botbuilder cannot read it as an activity."""


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() in ("localhost", "localhost.")


@dataclass(frozen=True)
class ServiceUrls:
    """Where the bot may post with the app's credentials: a Teams `serviceUrl` must name one of `hosts`.

    A host `*.example.com` allows its subdomains. In local mode (no app id) only
    loopback URLs are accepted, and outside it never: an unauthenticated
    activity must not make the bot post to an address of its choosing.
    """

    hosts: tuple[str, ...]
    local_mode: bool = False

    def problem(self, url: Any) -> str | None:
        """Why the bot must not post to `url`, or None."""
        if not isinstance(url, str):
            return "serviceUrl must be a string"
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            return "serviceUrl is not a valid URL"
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            return "serviceUrl must not carry credentials"
        if self.local_mode:
            if parts.scheme not in ("http", "https") or not is_loopback_host(host):
                return "in local mode serviceUrl must be a loopback address"
            return None
        if parts.scheme != "https":
            return "serviceUrl must be https"
        if is_loopback_host(host) or not any(_host_matches(host, allowed) for allowed in self.hosts):
            return "serviceUrl is not a Bot Framework service host"
        return None


def _host_matches(host: str, allowed: str) -> bool:
    if allowed.startswith("*."):
        return host.endswith(allowed[1:]) and len(host) > len(allowed) - 1
    return host == allowed


@dataclass(frozen=True)
class Lease:
    """What the database holds for a leased question: enough to answer it, nothing to identify the member by."""

    activity: dict[str, Any]
    app_id: str | None
    tries: int = 0

    def dumps(self) -> str:
        return json.dumps({"v": LEASE_FORMAT, "appId": self.app_id, "tries": self.tries, "activity": self.activity}, ensure_ascii=False)

    @classmethod
    def loads(cls, work: str) -> Lease:
        """The lease in `work`; ValueError for anything else (an older version's whole activity included)."""
        data = json.loads(work)
        if not isinstance(data, dict) or data.get("v") != LEASE_FORMAT or not isinstance(data.get("activity"), dict):
            raise ValueError("not a lease of this version")
        app_id, tries = data.get("appId"), data.get("tries")
        if not (app_id is None or isinstance(app_id, str)) or not isinstance(tries, int):
            raise ValueError("a lease with a malformed app id or count")
        return cls(data["activity"], app_id, tries)


def _part(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """`body[key]` where it is a mapping; missing or of another shape, an empty one."""
    part = body.get(key)
    return part if isinstance(part, Mapping) else {}


def reply_projection(body: Mapping[str, Any], *, text: str, member: str) -> dict[str, Any]:
    """The parts of a question's activity a reply is built from, with `text` and the member's hash in place of theirs."""
    conversation, recipient = _part(body, "conversation"), _part(body, "recipient")
    tenant = _part(_part(body, "channelData"), "tenant")
    projection: dict[str, Any] = {
        "type": ActivityTypes.message,
        "id": body.get("id"),
        "channelId": body.get("channelId"),
        "serviceUrl": body.get("serviceUrl"),
        "conversation": {k: conversation[k] for k in ("id", "conversationType", "tenantId", "isGroup") if k in conversation},
        "recipient": {k: recipient[k] for k in ("id", "name") if isinstance(recipient.get(k), str)},
        "from": {"id": member},
        "text": text,
        "textFormat": body.get("textFormat") if isinstance(body.get("textFormat"), str) else "plain",
    }
    if isinstance(body.get("locale"), str):
        projection["locale"] = body["locale"]
    if isinstance(tenant.get("id"), str):
        projection["channelData"] = {"tenant": {"id": tenant["id"]}}
    bot_id = recipient.get("id")
    mentions = [
        {"type": "mention", "text": e.get("text"), "mentioned": {"id": bot_id, "name": recipient.get("name")}}
        for e in body.get("entities") or ()
        if isinstance(e, Mapping) and e.get("type") == "mention" and isinstance(e.get("mentioned"), Mapping)
        and e["mentioned"].get("id") == bot_id and isinstance(e.get("text"), str)
    ]
    if mentions:
        projection["entities"] = mentions[:1]  # the bot's own @mention, so the replayed turn removes it as the live one did
    return projection


def stored_work(body: Mapping[str, Any], *, member: str, app_id: str | None, max_chars: int) -> str:
    """The lease the inbox writes for the question in `body` (JSON), as a tool or test plants one.

    Runs the privacy guard: call it from a worker thread.
    """
    return Lease(reply_projection(body, text=storable_text(body.get("text"), max_chars), member=member), app_id).dumps()


def authenticated_app_id(authenticated: AuthenticateRequestResult) -> str | None:
    """The app id the request's token was issued to (its audience); None without a token (local mode)."""
    identity = authenticated.claims_identity
    claims = (identity.claims if identity is not None else None) or {}
    audience = claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
    return audience if isinstance(audience, str) and audience else None


Turn = Callable[[TurnContext], Awaitable[None]]


class Answering(Flow[Lease]):
    """The inbox's flow for Teams questions: leases them, runs their turns after the ack, and answers those a
    stopped replica left."""

    prefix = WORK_PREFIX
    platform = PLATFORM
    lease_seconds = LEASE_SECONDS

    def __init__(
        self,
        adapter: Any,
        turn: Turn,
        inbox: Inbox,
        *,
        app_id: str | None,
        service_urls: ServiceUrls,
        member_id: Callable[[Activity], str],
        recovery_attempts: int = RECOVERY_ATTEMPTS,
    ) -> None:
        self.adapter = adapter
        self.turn = turn
        self.inbox = inbox
        self.app_id = app_id or None
        self.service_urls = service_urls
        self.member_id = member_id
        self.recovery_attempts = recovery_attempts
        self.background = Background("teams")
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
        except Exception as error:  # msrest raises several kinds for values of the wrong shape; re-raised as NotAnActivity
            raise NotAnActivity(type(error).__name__) from error
        lease = Lease(dict(body), authenticated_app_id(authenticated))
        if not await self.inbox.accept(self, key, lease, text=body.get("text"), user_id=self.member_id(activity)):
            log.info("teams activity already answered or being answered, not answering again", extra={"activity_id": activity.id})
            return False
        turn = partial(self._turn, activity.id, partial(self.adapter.process_activity, authenticated, activity))
        self.background.spawn(self.inbox.run(self, key, turn))
        return True

    # ------------------------------------------------------------ the flow

    def dumps(self, event: Lease, *, text: str, member: str | None) -> str:
        return Lease(reply_projection(event.activity, text=text, member=member or ""), event.app_id, event.tries).dumps()

    def loads(self, key: str, work: str) -> Lease:
        lease = Lease.loads(work)
        if _body_lease_key(lease.activity) != key:
            raise ValueError("a lease stored under another activity's key")
        try:
            Activity().deserialize(lease.activity)
        except Exception as error:  # msrest raises several kinds for values of the wrong shape; re-raised as ValueError
            raise ValueError(type(error).__name__) from error
        return lease

    def next_attempt(self, work: str) -> str:
        try:
            lease = Lease.loads(work)
        except ValueError:
            return work  # unreadable: `loads` says so once the inbox holds it
        return Lease(lease.activity, lease.app_id, lease.tries + 1).dumps()

    def unreadable(self, key: str) -> None:
        RECOVERY_ABANDONED.labels("unreadable").inc()

    async def handle(self, key: str, event: Lease) -> Outcome:
        """A lapsed lease: replayed as a proactive turn with this replica's credentials, when it may be."""
        reason = self._refusal(event)
        if reason is not None:
            RECOVERY_ABANDONED.labels(reason).inc()
            level = logging.ERROR if reason == "attempts" else logging.WARNING  # a member's lost answer, or a refused replay
            log.log(level, "teams: gave up on unfinished work %s (%s)", key, reason, extra={"reason": reason})
            return Outcome.DONE
        activity = Activity().deserialize(event.activity)
        log.warning("teams: answering activity %s, left unanswered by a stopped replica", activity.id,
                    extra={"activity_id": activity.id})
        identity = self.adapter.create_claims_identity(self.app_id or "")
        member = event.activity.get("from", {}).get("id")
        return await self._turn(activity.id, partial(self.adapter.process_proactive, identity, activity, None), member)

    def _refusal(self, lease: Lease) -> str | None:
        """Why a lapsed lease must not be replayed with this replica's credentials, or None."""
        if lease.app_id != self.app_id:
            return "app_id"
        if self.service_urls.problem(lease.activity.get("serviceUrl")) is not None:
            return "service_url"
        if lease.tries > self.recovery_attempts:
            return "attempts"
        return None

    async def _turn(self, ref: str | None, run: Callable[[Turn], Awaitable[Any]], member: str | None = None) -> Outcome:
        """`run(logic)` runs a turn (from the request, or proactively) with `logic` as the bot; `member`: a recovered
        turn's member hash. Every outcome is DONE (a failed turn was logged, the member told, and is not retried by
        a resend) except a reply the connector would not take for now: its lease lapses and recovery tries again.
        A turn that sent its reply has completed the lease already (`Inbox.complete_now`)."""
        retry_later = False

        async def logic(context: TurnContext) -> None:
            nonlocal retry_later
            if member:
                context.turn_state[RECOVERED_MEMBER] = member
            try:
                await self.turn(context)
            except DeliveryFailed as failed:
                retry_later = failed.transient
                raise

        try:
            await run(logic)
        except Exception:  # a background answer's boundary: counted and logged; the lease is completed or left below
            ERRORS.labels("teams").inc()
            log.exception("teams activity %s could not be answered", ref, extra={"activity_id": ref})
        if retry_later:
            log.warning("teams: the reply to activity %s will be sent again once its lease lapses", ref, extra={"activity_id": ref})
            return Outcome.LATER
        return Outcome.DONE

    # ------------------------------------------------------------ lifecycle

    async def on_startup(self, _app: Any) -> None:
        recovery = self.inbox.recover_forever([self], self.background.spawn)
        self._recovery = asyncio.get_running_loop().create_task(recovery)

    async def on_shutdown(self, _app: Any) -> None:
        """Before the server's cleanup closes the store: answers in flight still complete their leases."""
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
        await self.background.close()
