"""Wiring: a Bolt `AsyncApp` inside guidebot's one aiohttp server, or on Socket Mode.

`mount(app, guidebot, settings)` adds `POST /slack/events` (Events API, slash
commands and interactivity on one URL) and, when `SLACK_APP_TOKEN` is set, a
Socket Mode connection opened and closed with the server. Like Bolt's own
aiohttp adapter, the route is two conversions around one `async_dispatch`;
what happens for each request lives in `listeners.py`.

Bolt verifies every HTTP request's signature (v0 HMAC, 5-minute window):
forged, unsigned and stale requests get 401 and reach no listener. A request
that cannot be parsed gets 400 when it is signed and 401 when it is not, so a
bad body never says more than a bad signature would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from adapters.slack import render
from adapters.slack.delivery import SDK_LOG, Delivery, web_client
from adapters.background import Background
from adapters.slack.listeners import Listeners
from adapters.slack.handoff import SlackHandoffs
from adapters.slack.settings import SlackSettings
from bot.http import has_lone_surrogate
from bot.service import Guidebot
from bot.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
NOT_CONFIGURED = (
    "Slack is not configured on this server: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
    "(see the README's Slack section). The rest of guidebot is running."
)
MAX_BODY_BYTES = 1024 * 1024

# Bolt logs unhandled payloads (members' words) at WARNING: only its errors go to our logs.
BOLT_LOG = logging.getLogger("adapters.slack.bolt")


def _json_error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": error, "message": message}, status=status)


def _shape_problem(body: Any) -> str | None:
    """Why a parsed body is not a Slack payload Bolt can route, or None when it looks like one."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    for key in ("type", "token", "team_id", "api_app_id", "event_id", "command", "text", "user_id", "channel_id", "trigger_id", "response_url"):
        if key in body and not isinstance(body[key], str):
            return f"'{key}' is not a string"
    for key in ("team", "user", "channel", "enterprise"):
        if key in body and not isinstance(body[key], (str, dict, type(None))):
            return f"'{key}' has the wrong type"
    for key in ("container", "message", "view", "event", "authorizations", "actions"):
        if key in body and not isinstance(body[key], list if key in ("authorizations", "actions") else dict):
            return f"'{key}' has the wrong type"
    if any(not isinstance(a, dict) for a in body.get("authorizations", [])):
        return "'authorizations' holds a non-object"
    if any(not isinstance(a, dict) or not isinstance(a.get("action_id", ""), str) for a in body.get("actions", [])):
        return "'actions' holds a malformed action"
    if body.get("type") == "block_actions" and not body.get("actions"):
        return "block_actions without actions"
    event = body.get("event")
    if isinstance(event, dict):
        if not isinstance(event.get("type"), str):
            return "the event has no type"
        for key in ("channel", "user", "ts", "thread_ts", "text", "subtype", "channel_type", "bot_id"):
            if key in event and not isinstance(event[key], (str, type(None))):
                return f"the event's '{key}' is not a string"
        for key in ("message", "previous_message", "item", "assistant_thread"):
            if key in event and not isinstance(event[key], (dict, type(None))):
                return f"the event's '{key}' has the wrong type"
    return None


class SlackAdapter:
    """One Slack app: the Bolt app, the route, the Socket Mode connection and pending work."""

    def __init__(self, guidebot: Guidebot, settings: Settings, slack: SlackSettings) -> None:
        # The library loggers' levels are set when Slack is mounted, never on import.
        BOLT_LOG.setLevel(logging.ERROR)
        SDK_LOG.setLevel(logging.INFO)
        self.settings = settings
        self.slack = slack
        self.guidebot = guidebot
        self.background = Background("slack")
        self.socket_mode: Any = None
        token, secret = slack.bot_token, slack.signing_secret
        self.http_enabled = bool(token and secret)
        self.socket_mode_enabled = bool(token and slack.app_token)
        self.bolt: AsyncApp | None = None
        self.delivery: Delivery | None = None
        self.listeners: Listeners | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._verifier = SignatureVerifier(secret) if secret else None
        if not token:
            log.info("slack: no SLACK_BOT_TOKEN; %s answers 503", EVENTS_PATH)
            return
        client = web_client(token, slack.api_url)
        self.delivery = Delivery(client, settings.public_url)
        self.bolt = AsyncApp(
            name="guidebot",
            token=token,
            client=client,
            signing_secret=secret or "",
            # Without a secret only Socket Mode runs, and the HTTP route answers 503 before Bolt.
            request_verification_enabled=bool(secret),
            # Answer Slack when the listener returns, not before it runs: listeners store what must
            # survive a crash (a question's lease, a vote), ack, and leave the slow part to `background`.
            process_before_response=True,
            raise_error_for_unhandled_request=False,
            logger=BOLT_LOG,
        )
        self.listeners = Listeners(guidebot, self.delivery, self.background)
        # Hand-offs first: a staff reply in a hand-off's thread is not a question.
        self.handoffs = SlackHandoffs.mount(self.bolt, guidebot, self.delivery, self.background)
        self._register(self.listeners)

    def _register(self, listeners: Listeners) -> None:
        assert self.bolt is not None
        bolt = self.bolt
        bolt.event("app_mention")(listeners.app_mention)
        bolt.event("message")(listeners.message)
        bolt.event("assistant_thread_started")(listeners.assistant_thread_started)
        bolt.event("assistant_thread_context_changed")(listeners.ignore)
        bolt.command(re.compile(r"^/"))(listeners.command)
        bolt.action(re.compile(rf"^{render.FEEDBACK_ACTION}(_up|_down)?$"))(listeners.feedback)
        bolt.action(render.SHARE_ACTION)(listeners.share)
        bolt.action(render.PASSAGES_ACTION)(listeners.passages)

    # ------------------------------------------------------------ HTTP

    def _signed(self, request: web.Request, raw: bytes) -> bool:
        if self._verifier is None:
            return False
        try:
            return self._verifier.is_valid(
                body=raw.decode("utf-8"),
                timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
                signature=request.headers.get("X-Slack-Signature", ""),
            )
        except ValueError:  # not UTF-8, or a timestamp that is not a number: not from Slack
            return False

    def _bad_request(self, request: web.Request, raw: bytes, why: str) -> web.Response:
        if not self._signed(request, raw):
            return _json_error(401, "invalid_request", "The request is not signed by Slack.")
        log.info("slack: rejected a signed request: %s", why)
        return _json_error(400, "malformed_payload", f"Not a Slack payload guidebot understands: {why}.")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """`POST /slack/events`: to_bolt_request → async_dispatch → to_aiohttp_response."""
        if self.bolt is None or not self.http_enabled:
            return _json_error(503, "slack_not_configured", NOT_CONFIGURED)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _json_error(413, "too_large", "The request body is too large.")
        if not request.headers.get("X-Slack-Request-Timestamp", "").isdigit():
            return _json_error(401, "invalid_request", "The request is not signed by Slack.")  # Bolt's check raises on it
        try:
            text = raw.decode("utf-8")
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
        except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as error:
            return self._bad_request(request, raw, type(error).__name__)
        problem = "a lone surrogate in its text" if has_lone_surrogate(bolt_request.body) else _shape_problem(bolt_request.body)
        if problem is not None:
            return self._bad_request(request, raw, problem)
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    # ------------------------------------------------------------ lifecycle

    async def on_startup(self, _app: web.Application) -> None:
        if self.bolt is None:
            return
        # One HTTP session for every Web API call (slack_sdk opens and closes one per call otherwise:
        # a new connection, and its set-up on the event loop, for every answer).
        self.bolt.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.bolt.client.timeout))
        assert self.listeners is not None
        # Answer what a stopped replica left unanswered: at start-up, then every so often.
        recovery = self.guidebot.inbox.recover_forever(self.listeners.flows, self.background.spawn)
        self._recovery = asyncio.get_running_loop().create_task(recovery)
        await self.guidebot.handoffs.start()  # hand-offs' recovery and reminders (once per process)
        if self.socket_mode_enabled:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self.socket_mode = AsyncSocketModeHandler(
                self.bolt,
                app_token=self.slack.app_token,
                logger=BOLT_LOG,
                web_client=web_client(None, self.slack.api_url),
            )
            await self.socket_mode.connect_async()
            log.info("slack: connected in Socket Mode")

    async def on_shutdown(self, _app: web.Application) -> None:
        """Before the server's cleanup closes the store: answers in flight still complete their leases."""
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        if self.socket_mode is not None:
            await self.socket_mode.close_async()
            self.socket_mode = None
        await self.guidebot.handoffs.close()
        await self.background.close()
        if self.bolt is not None and self.bolt.client.session is not None:
            await self.bolt.client.session.close()


SLACK_ADAPTER = web.AppKey("guidebot.slack", SlackAdapter)


def mount(app: web.Application, guidebot: Guidebot, settings: Settings, slack: SlackSettings | None = None) -> None:
    """Entry point `guidebot.adapters: slack`: add `POST /slack/events` and the Socket Mode hooks.

    Slack's own settings are read from the environment here (`SlackSettings`) unless given.
    """
    adapter = SlackAdapter(guidebot, settings, slack or SlackSettings())
    app[SLACK_ADAPTER] = adapter
    app.router.add_post(EVENTS_PATH, adapter.handle)
    app.on_startup.append(adapter.on_startup)
    app.on_shutdown.append(adapter.on_shutdown)
