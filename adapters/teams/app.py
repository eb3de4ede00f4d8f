"""Start-up wiring for Teams: settings → Bot Framework authentication → adapter → `POST /api/messages`.

The request handler checks what the SDK takes for granted before it sees a
request: a JSON content type (else 415), a JSON object shaped like an activity
(else 400), a valid Bot Framework token when an app id is configured (else
401, whatever the SDK raised while checking it, and while Microsoft's signing
keys cannot be downloaded: `signing_keys`), and a `serviceUrl` on a Bot Framework host the app
may post to (`GUIDEBOT_TEAMS_SERVICE_HOSTS`; else 400).

Without an app id the endpoint answers 503, unless local development mode is
asked for (`GUIDEBOT_TEAMS_LOCAL_MODE=1`, for the Bot Framework Emulator and
tests): then requests are not authenticated, so they are accepted only when
addressed to a loopback `Host` on a loopback bind address and naming a loopback
`serviceUrl`; the bot can be made to post nowhere else. Connector calls time out
after `GUIDEBOT_TEAMS_HTTP_TIMEOUT_SECONDS` (msrest's default is 100 s, on a
thread of the shared pool).

A member's question is leased and acknowledged at once, then answered in the
background (`answering`); everything else (card presses, feedback invokes,
installs) runs inside the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ResourceResponse
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
)
from msrest.exceptions import SerializationError

from adapters.teams.answering import Answering, NotAnActivity, ServiceUrls, is_loopback_host, is_question
from adapters.teams.bot import GuidebotTeamsBot, to_activity, user_id_of
from adapters.teams.delivery import DeliveryFailed, RetryPolicy, single_retry_layer, with_retries
from adapters.teams.handoff import TeamsHandoffs
from adapters.teams.replies import failure_activity
from adapters.teams.settings import BotConfig, TeamsSettings
from adapters.teams.signing_keys import guard_signing_keys
from bot.metrics import ERRORS
from bot.http import parse_json
from bot.service import Guidebot
from bot.settings import Settings

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
_STRING_FIELDS = ("id", "name", "text", "textFormat", "locale", "replyToId", "channelId", "action")
_ACCOUNT_FIELDS = ("from", "recipient")
_LIST_FIELDS = ("entities", "attachments", "membersAdded", "membersRemoved")
_LOCAL_ACTIVITY_TYPES = {"delay", ActivityTypes.invoke_response, ActivityTypes.trace}
MAX_CONNECTOR_CLIENTS = 32
"""Teams talks to a handful of regional service URLs; the bound keeps a flood of made-up ones in check."""
EVICTED_CLIENT_GRACE_SECONDS = 300.0
"""A client pushed out of the cache may still be in a turn that took it a moment before (sending,
retrying a 429); it is closed once any such turn is over, rather than at once or never."""


class ConnectorClients:
    """The connector clients kept between turns, least recently used first, and those retiring."""

    def __init__(self, size: int = MAX_CONNECTOR_CLIENTS, grace_seconds: float = EVICTED_CLIENT_GRACE_SECONDS) -> None:
        self.size = size
        self.grace_seconds = grace_seconds
        self.live: OrderedDict[tuple[str | None, str, str | None], Any] = OrderedDict()
        self.retiring: set[Any] = set()

    def get(self, key: tuple[str | None, str, str | None]) -> Any:
        client = self.live.get(key)
        if client is not None:
            self.live.move_to_end(key)
        return client

    def put(self, key: tuple[str | None, str, str | None], client: Any) -> None:
        self.live[key] = client
        while len(self.live) > self.size:
            _, evicted = self.live.popitem(last=False)
            self.retiring.add(evicted)
            asyncio.get_running_loop().call_later(self.grace_seconds, self._retire, evicted)

    def _retire(self, client: Any) -> None:
        if client in self.retiring:
            self.retiring.discard(client)
            asyncio.get_running_loop().create_task(_close_client(client))

    async def close(self) -> None:
        clients = [*self.live.values(), *self.retiring]
        self.live.clear()
        self.retiring.clear()
        for client in clients:
            await _close_client(client)


async def _close_client(client: Any) -> None:
    with contextlib.suppress(Exception):
        await client.__aexit__(None, None, None)


class CachedConnectorFactory(ConnectorFactory):
    """One connector client per app id, service URL and audience, kept between turns.

    botbuilder builds a new `ConnectorClient` on every turn, and msrest spends
    milliseconds of the event loop on each (its retry policy alone scans a
    thousand status codes), which held every other request's ack back under
    load; a new client per turn also meant a new HTTP session, never reused.
    Bot Framework's other SDKs keep a client per service URL the same way.
    """

    def __init__(self, inner: ConnectorFactory, app_id: str | None, clients: ConnectorClients, timeout: float) -> None:
        self.inner = inner
        self.app_id = app_id
        self.clients = clients
        self.timeout = timeout

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self.app_id, service_url, audience)
        client = self.clients.get(key)
        if client is None:
            client = await self.inner.create(service_url, audience)
            client.config.connection.timeout = self.timeout  # msrest's 100 s would hold a pool thread that long
            self.clients.put(key, client)
        return client


class CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication):
    """`ConfigurationBotFrameworkAuthentication` whose connector and user-token clients outlive a turn."""

    def __init__(self, configuration: Any, timeout: float) -> None:
        super().__init__(configuration)
        self.timeout = timeout
        self.connector_clients = ConnectorClients()
        self.token_clients: dict[str | None, Any] = {}

    def _cached(self, factory: ConnectorFactory, claims_identity: ClaimsIdentity | None) -> ConnectorFactory:
        claims = claims_identity.claims if claims_identity is not None else {}
        app_id = JwtTokenValidation.get_app_id_from_claims(claims)
        return CachedConnectorFactory(factory, app_id, self.connector_clients, self.timeout)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._cached(result.connector_factory, result.claims_identity)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._cached(super().create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        app_id = JwtTokenValidation.get_app_id_from_claims(claims_identity.claims or {})
        if app_id not in self.token_clients:
            self.token_clients[app_id] = await super().create_user_token_client(claims_identity)
        return self.token_clients[app_id]

    async def close(self) -> None:
        await self.connector_clients.close()


class RetryingCloudAdapter(CloudAdapter):
    """`CloudAdapter` whose connector calls (send, reply, update) go through `with_retries`."""

    def __init__(self, authentication: BotFrameworkAuthentication, policy: RetryPolicy) -> None:
        super().__init__(authentication)
        self.policy = policy

    def _prepare(self, context: TurnContext) -> None:
        single_retry_layer(context.turn_state.get(self.BOT_CONNECTOR_CLIENT_KEY))

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        responses: list[ResourceResponse] = []
        for activity in activities:
            if activity.type in _LOCAL_ACTIVITY_TYPES:
                responses.extend(await super().send_activities(context, [activity]))
                continue
            self._prepare(context)

            async def send(one: Activity = activity) -> list[ResourceResponse]:
                return await CloudAdapter.send_activities(self, context, [one])

            responses.extend(
                await with_retries(send, self.policy, activity_id=context.activity.id, operation="send")
            )
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse | None:
        self._prepare(context)

        async def update() -> ResourceResponse | None:
            return await CloudAdapter.update_activity(self, context, activity)

        return await with_retries(update, self.policy, activity_id=context.activity.id, operation="update")


def activity_problem(body: Any) -> str | None:
    """Why `body` is not an activity we can act on, or None. Checked before the SDK sees it."""
    if not isinstance(body, Mapping):
        return "an activity must be a JSON object"
    kind = body.get("type")
    if not isinstance(kind, str) or not kind.strip():
        return "type must be a non-empty string"
    for field in _STRING_FIELDS:
        if body.get(field) is not None and not isinstance(body[field], str):
            return f"{field} must be a string"
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.lower().startswith(("https://", "http://")):
        return "serviceUrl must be an http(s) URL"
    conversation = body.get("conversation")
    if not isinstance(conversation, Mapping) or not isinstance(conversation.get("id"), str) or not conversation["id"]:
        return "conversation.id must be a non-empty string"
    for field in _ACCOUNT_FIELDS:
        account = body.get(field)
        if account is None and kind in (ActivityTypes.message, ActivityTypes.invoke):
            return f"{field} is required"
        if account is not None and (not isinstance(account, Mapping) or not isinstance(account.get("id", ""), str)):
            return f"{field} must be an object with a string id"
    for field in _LIST_FIELDS:
        items = body.get(field)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            return f"{field} must be a list of objects"
    for entity in body.get("entities") or ():
        if not isinstance(entity.get("type"), str):
            return "every entity needs a string type"
    for field in ("membersAdded", "membersRemoved"):
        if any(not isinstance(m.get("id"), str) for m in body.get(field) or ()):
            return f"every member in {field} needs a string id"
    if body.get("channelData") is not None and not isinstance(body["channelData"], Mapping):
        return "channelData must be an object"
    if kind == ActivityTypes.conversation_update and body.get("channelId") == "msteams" and body.get("channelData") is None:
        return "a Teams conversationUpdate needs channelData"  # the SDK's Teams handler reads channelData.team
    return None


def _credentials_view(body: Mapping[str, Any]) -> Activity:
    """What checking a request's token reads of its activity (channel, service URL, recipient).

    A question's full activity is read once the token is checked (`Answering.take`), not twice.
    """
    recipient = body.get("recipient")
    return Activity(
        type=body.get("type"),
        id=body.get("id"),
        channel_id=body.get("channelId"),
        service_url=body.get("serviceUrl"),
        recipient=ChannelAccount(id=recipient.get("id"), name=recipient.get("name")) if isinstance(recipient, Mapping) else None,
    )


def _invoke_body(body: Any) -> Any:
    """An invoke response body as JSON: plain values as they are, SDK models through their serializer."""
    if body is None or isinstance(body, (dict, list, str, int, float, bool)):
        return body
    try:
        return serializer_helper(body)
    except SerializationError:
        # botbuilder's own error replies (an `adaptiveCard/action` without a value …) hold an
        # Exception as their value, which msrest cannot serialise: send the error in Teams' shape.
        value = getattr(body, "value", None)
        code, message = ([str(a) for a in value.args] + ["BadRequest", "bad request"])[:2] if isinstance(value, Exception) else ("BadRequest", "bad request")
        return {"statusCode": getattr(body, "status_code", None), "type": "application/vnd.microsoft.error",
                "value": {"code": code, "message": message}, "error": message}


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


class TeamsEndpoint:
    """`POST /api/messages`: validate, authenticate, run the turn, answer Teams."""

    def __init__(self, guidebot: Guidebot, settings: Settings, teams: TeamsSettings, retry: RetryPolicy | None = None) -> None:
        config = BotConfig.from_settings(teams)
        self.local_mode = not config.APP_ID
        if self.local_mode and not teams.local_mode:
            raise ValueError("Teams needs MICROSOFT_APP_ID, or GUIDEBOT_TEAMS_LOCAL_MODE=1 for local development")
        guard_signing_keys(teams.http_timeout_seconds, teams.openid_metadata_url)
        self.service_urls = ServiceUrls(teams.service_host_patterns, local_mode=self.local_mode)
        self.authentication = CachingBotFrameworkAuthentication(config, teams.http_timeout_seconds)
        self.adapter = RetryingCloudAdapter(self.authentication, retry or RetryPolicy())
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = GuidebotTeamsBot(guidebot, settings.public_url)
        self.handoffs = TeamsHandoffs.mount(self.bot, guidebot, self.adapter, app_id=config.APP_ID, service_urls=self.service_urls)
        self.answering = Answering(
            self.adapter,
            self.bot.on_turn,
            guidebot.inbox,
            app_id=config.APP_ID,
            service_urls=self.service_urls,
            member_id=user_id_of,
            recovery_attempts=teams.recovery_attempts,
        )

    async def handle(self, request: web.Request) -> web.Response:
        if self.local_mode and not is_loopback_host(_host_name(request.host)):
            # Unauthenticated: only the Emulator or a test on this machine (DNS rebinding names another host).
            log.warning("teams local mode: refused a request addressed to a host that is not loopback")
            return web.json_response({"error": "local development mode answers requests to a loopback host only"}, status=403)
        if request.content_type != "application/json":
            return web.json_response({"error": "send the activity as application/json"}, status=415)
        try:
            body = parse_json(await request.read())
        except ValueError as error:
            return _bad_request(f"the body is not usable JSON ({error})")
        problem = activity_problem(body)
        if problem:
            return _bad_request(problem)
        question = is_question(body) and not self.handoffs.is_staff_reply(body)  # a staff reply is taken before the 200
        try:
            activity = _credentials_view(body) if question else Activity().deserialize(body)
        except Exception as error:  # noqa: BLE001 - msrest raises several kinds for values of the wrong shape
            return _bad_request(f"not a Bot Framework activity ({type(error).__name__})")
        try:
            authenticated = await self.authentication.authenticate_request(activity, request.headers.get("Authorization", ""))
        except Exception as error:  # noqa: BLE001 - PermissionError, jwt errors, signing keys unknown for now: no token we can accept
            log.warning(
                "teams request rejected: no valid Bot Framework token (%s)",
                type(error).__name__,
                extra={"activity_id": activity.id},
            )
            return web.json_response({"error": "a valid Bot Framework token is required"}, status=401)
        refused = self.service_urls.problem(body.get("serviceUrl"))
        if refused:
            log.warning("teams request refused: %s", refused, extra={"activity_id": activity.id})
            return _bad_request(refused)
        if question:
            try:
                await self.answering.take(authenticated, body)
            except NotAnActivity as error:
                return _bad_request(f"not a Bot Framework activity ({error})")
            except Exception:  # the request's boundary: counted, logged, and Teams is told to retry
                ERRORS.labels("teams").inc()
                log.exception("teams question could not be leased", extra={"activity_id": activity.id})
                return web.json_response(
                    {"error": "the question could not be taken; send it again"}, status=503, headers={"Retry-After": "5"}
                )
            return web.Response(status=200)
        try:
            invoke_response = await self.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        except Exception:  # the request's boundary: counted, logged, and a 500 to the Bot Framework
            ERRORS.labels("teams").inc()
            log.exception("teams activity could not be processed", extra={"activity_id": activity.id})
            return web.json_response({"error": "the activity could not be processed"}, status=500)
        if invoke_response is not None:
            return web.json_response(_invoke_body(invoke_response.body), status=invoke_response.status)
        return web.Response(status=200)

    async def on_startup(self, app: web.Application) -> None:
        await self.answering.on_startup(app)
        await self.handoffs.start()

    async def on_shutdown(self, app: web.Application) -> None:
        await self.answering.on_shutdown(app)
        await self.handoffs.close()
        await self.authentication.close()

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """A failed turn is logged with the activity id and counted; the member's text is never logged.

        A member whose question failed is told so, unless the connector itself refused the reply.
        """
        if isinstance(error, DeliveryFailed):
            return  # logged where it failed
        ERRORS.labels("teams").inc()
        log.error(
            "teams turn failed for activity %s",
            context.activity.id,
            exc_info=error,
            extra={"activity_id": context.activity.id, "activity_type": context.activity.type},
        )
        if not context.responded and is_question(context.activity.serialize()):
            with contextlib.suppress(DeliveryFailed):
                await context.send_activity(to_activity(failure_activity()))


TEAMS_ENDPOINT = web.AppKey("teams_endpoint", TeamsEndpoint)


def _host_name(host: str | None) -> str | None:
    """The name in a `Host` header, without its port (`[::1]:3978` → `::1`)."""
    if not host:
        return None
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None


async def _not_configured(_request: web.Request) -> web.Response:
    return web.json_response(
        {
            "error": "teams_not_configured",
            "message": "Microsoft Teams is not configured: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD.",
        },
        status=503,
    )


def mount(app: web.Application, guidebot: Guidebot, settings: Settings, teams: TeamsSettings | None = None) -> None:
    """Without an app id the endpoint stays idle (503), unless local development mode is asked for.

    Unauthenticated requests could make the bot post wherever they say, so
    local mode (`GUIDEBOT_TEAMS_LOCAL_MODE=1`) is never the default and runs
    only on a loopback bind address. Teams' own settings are read from the
    environment here (`TeamsSettings`) unless given.
    """
    teams = teams or TeamsSettings()
    if not teams.app_id and not (teams.local_mode and is_loopback_host(settings.host)):
        app.router.add_post(ROUTE, _not_configured)
        why = "bound to a non-loopback address" if teams.local_mode else "GUIDEBOT_TEAMS_LOCAL_MODE is not set"
        log.warning("Teams endpoint %s idle: MICROSOFT_APP_ID is not set (local mode refused: %s)", ROUTE, why)
        return
    endpoint = TeamsEndpoint(guidebot, settings, teams)
    app.router.add_post(ROUTE, endpoint.handle)
    app[TEAMS_ENDPOINT] = endpoint
    app.on_startup.append(endpoint.on_startup)
    app.on_shutdown.append(endpoint.on_shutdown)
    if endpoint.local_mode:
        log.warning(
            "Teams endpoint %s in local development mode (GUIDEBOT_TEAMS_LOCAL_MODE): requests are not "
            "authenticated, and only loopback hosts and service URLs are accepted (for the Bot Framework Emulator and tests)",
            ROUTE,
        )
    else:
        log.info("Teams endpoint %s: every request must carry a valid Bot Framework token", ROUTE)
