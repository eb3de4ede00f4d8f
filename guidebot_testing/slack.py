"""A local Slack Web API that records what guidebot sends, for end-to-end tests.

Runs on 127.0.0.1 inside the test's event loop. Point `SLACK_API_URL` at
`fake.api_url`; give slash-command and button payloads a `fake.response_url()`.
It answers the methods guidebot calls (`auth.test`, `chat.postMessage`,
`chat.postEphemeral`, `chat.update`, `assistant.threads.*`, `users.info`, `conversations.open`,
`apps.connections.open`, and `conversations.replies` / `conversations.history`
from the messages it accepted, metadata included), records every attempt and every success, and can be
told to fail: `fail("chat.postMessage", status=429, retry_after=1)`,
`fail(..., status=500, times=None)` (forever), or to refuse blocks holding
some element (`refuse_blocks_with="citation"`), or to fail a random share of posts the way
Slack does under load (`FakeSlack(random_failures=RandomFailures(...))`). `/socket` is a Socket Mode
WebSocket: `await fake.send_envelope(payload)` pushes an Events API envelope
and returns the ack guidebot sends back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from adapters.slack.settings import SlackSettings
from bot.settings import Settings
from guidebot_testing.faults import RandomFailures

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0000001"


@dataclass(frozen=True)
class Call:
    """One request the fake received: the method (or `response_url`) and its decoded body."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    ok: bool
    path: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    status: int
    times: int | None  # None: forever
    retry_after: int | None = None
    error: str | None = None


@dataclass
class FakeSlack:
    RANDOM_FAILURE_METHODS: ClassVar[tuple[str, ...]] = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")

    server: TestServer | None = None
    calls: list[Call] = field(default_factory=list)
    _faults: dict[str, deque[_Fault]] = field(default_factory=dict)
    refuse_blocks_with: str | None = None
    delays: dict[str, float] = field(default_factory=dict)
    """Seconds a method takes to answer, e.g. {"chat.postMessage": 4.0}."""
    names: dict[str, str] = field(default_factory=dict)
    """Display names `users.info` gives, by user id (else "Member <id>")."""
    arrived: list[str] = field(default_factory=list)
    """Methods in the order their requests arrived (before any delay)."""
    random_failures: RandomFailures | None = None
    """Fail a random share of the posts (`RANDOM_FAILURE_METHODS`) with 429 or 5xx, besides `fail()`."""
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _socket_ready: asyncio.Event | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads conversations.* with GET
        app.router.add_post("/response/{token}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self.server = TestServer(app, host="127.0.0.1")
        self._socket_ready = asyncio.Event()
        await self.server.start_server()
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self.server is not None:
            await self.server.close()

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self) -> str:
        return f"{self.base}/response/{uuid.uuid4().hex}"

    # ------------------------------------------------------------ faults

    def fail(self, method: str, *, status: int = 500, times: int | None = 1, retry_after: int | None = None, error: str | None = None) -> None:
        """The next `times` calls of `method` (None: all of them) get this failure."""
        self._faults.setdefault(method, deque()).append(_Fault(status, times, retry_after, error))

    def _fault_for(self, method: str) -> _Fault | None:
        if self.random_failures is not None and method in self.RANDOM_FAILURE_METHODS:
            failure = self.random_failures.draw("slack")
            if failure is not None:
                self.fail(method, status=failure.status, retry_after=failure.retry_after)
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
        return fault

    # ------------------------------------------------------------ what was sent

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self, method: str) -> list[Call]:
        """Calls Slack would have accepted."""
        return [c for c in self.calls if c.method == method and c.ok]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 15.0, what: str = "the expected Slack call") -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = condition()
            if result:
                return result
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; calls: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.02)

    async def wait_sent(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        return await self.wait_for(lambda: len(self.sent(method)) >= count and self.sent(method), timeout, f"{count} × {method}")

    # ------------------------------------------------------------ handlers

    @staticmethod
    async def _decode(request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if not raw:
            return dict(request.query)
        if request.content_type == "application/json":
            return json.loads(raw)
        body: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
        for key in ("blocks", "prompts"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        return body

    def _refused(self, body: dict[str, Any]) -> bool:
        if not self.refuse_blocks_with:
            return False
        return self.refuse_blocks_with in json.dumps(body.get("blocks") or [])

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._decode(request)
        self.arrived.append(method)
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
            if request.transport is None or request.transport.is_closing():
                # The caller went away (a replica that died) before Slack answered: nothing was posted.
                self.calls.append(Call(method, body, dict(request.headers), ok=False))
                return web.Response(status=499)
        headers = dict(request.headers)
        fault = self._fault_for(method)
        if fault is not None:
            self.calls.append(Call(method, body, headers, ok=False))
            if fault.error:
                return web.json_response({"ok": False, "error": fault.error}, status=fault.status)
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            error = "ratelimited" if fault.status == 429 else "fatal_error"
            return web.json_response({"ok": False, "error": error}, status=fault.status, headers=extra)
        if method.startswith("chat.") and self._refused(body):
            self.calls.append(Call(method, body, headers, ok=False))
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        self.calls.append(Call(method, body, headers, ok=True))
        return web.json_response(self._answer(method, body))

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Guide", "user": "guidebot", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": {"text": body.get("text"), "ts": ts, "bot_id": BOT_ID}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": body.get("text")}
        if method.startswith("assistant.threads."):
            return {"ok": True}
        if method in ("conversations.replies", "conversations.history"):
            return {"ok": True, "messages": self._history(method, body), "has_more": False}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"{self.base.replace('http://', 'ws://')}/socket"}
        if method == "users.info":
            user = str(body.get("user", ""))
            name = self.names.get(user, f"Member {user}")
            return {"ok": True, "user": {"id": user, "name": user.lower(), "real_name": name, "profile": {"display_name": name, "real_name": name}}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(body.get("users", "")).lstrip("U")}}
        return {"ok": False, "error": "unknown_method"}

    def _history(self, method: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Accepted posts in the channel: a thread's replies, or the top-level messages (no `oldest` filter)."""
        channel, thread = query.get("channel"), query.get("ts")
        messages = []
        for call in self.sent("chat.postMessage"):
            body = call.body
            if body.get("channel") != channel:
                continue
            if (body.get("thread_ts") or None) != (thread if method == "conversations.replies" else None):
                continue
            message = {"type": "message", "bot_id": BOT_ID, "text": body.get("text"), "thread_ts": body.get("thread_ts")}
            if query.get("include_all_metadata") in ("1", "true", "True", True) and isinstance(body.get("metadata"), dict):
                message["metadata"] = body["metadata"]
            messages.append(message)
        return messages

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await self._decode(request)
        headers, path = dict(request.headers), request.path
        fault = self._fault_for("response_url")
        if fault is not None:
            self.calls.append(Call("response_url", body, headers, ok=False, path=path))
            return web.Response(status=fault.status, text=fault.error or "server_error")
        if self._refused(body):
            self.calls.append(Call("response_url", body, headers, ok=False, path=path))
            return web.Response(status=400, text="invalid_blocks")
        self.calls.append(Call("response_url", body, headers, ok=True, path=path))
        return web.Response(text="ok")

    def responses(self, response_url: str) -> list[Call]:
        """What was posted to one `response_url` (and accepted)."""
        path = response_url[len(self.base):]
        return [c for c in self.sent("response_url") if c.path == path]

    # ------------------------------------------------------------ Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A1"}})
        assert self._socket_ready is not None
        self._socket_ready.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                future = self._acks.get(data.get("envelope_id", ""))
                if future is not None and not future.done():
                    future.set_result(data)
        self._sockets.remove(ws)
        return ws

    async def send_envelope(self, payload: dict[str, Any], kind: str = "events_api", timeout: float = 5.0) -> dict[str, Any]:
        """Push one envelope to the connected app; return the ack it sends back."""
        assert self._socket_ready is not None
        await asyncio.wait_for(self._socket_ready.wait(), timeout)
        envelope_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self._sockets[-1].send_json({"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""})
        return await asyncio.wait_for(future, timeout)


# ---------------------------------------------------------------- Slack's side of the conversation

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
_event_ids = itertools.count(1)
_message_ts = itertools.count(1)


def sign(body: str | bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with `body`: v0 HMAC-SHA256 over `v0:<timestamp>:<body>`."""
    import hashlib
    import hmac

    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def next_ts() -> str:
    return f"1712000000.{next(_message_ts):06d}"


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0000001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": 1712000000,
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "is_enterprise_install": False}],
    }


def mention(text: str, *, user: str = "U0MEMBER1", channel: str = "C0GENERAL", ts: str | None = None, thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts or next_ts(), "channel": channel, "event_ts": "1"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, *, user: str = "U0MEMBER1", channel: str = "D0DIRECT1", channel_type: str = "im", ts: str | None = None, thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"type": "message", "user": user, "text": text, "ts": ts or next_ts(), "channel": channel, "channel_type": channel_type, "event_ts": "1", **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def command_form(text: str, response_url: str, *, user: str = "U0MEMBER1", channel: str = "C0GENERAL", trigger_id: str | None = None) -> str:
    from urllib.parse import urlencode

    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "team_domain": "guide",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "member",
            "command": "/guide",
            "text": text,
            "api_app_id": "A0000001",
            "response_url": response_url,
            "trigger_id": trigger_id or uuid.uuid4().hex,
        }
    )


def block_actions_form(action: dict[str, Any], response_url: str, *, user: str = "U0MEMBER1", channel: str = "C0GENERAL", message: dict[str, Any] | None = None, ephemeral: bool = False) -> str:
    from urllib.parse import urlencode

    container: dict[str, Any] = {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "member", "team_id": TEAM_ID},
        "api_app_id": "A0000001",
        "token": "legacy-unused",
        "container": container,
        "trigger_id": uuid.uuid4().hex,
        "team": {"id": TEAM_ID, "domain": "guide"},
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [{"action_ts": "1712000000.1", **action}],
    }
    if message is not None:
        container["message_ts"] = message.get("ts")
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})


# ---------------------------------------------------------------- guidebot under test, wired to the fake

PUBLIC_URL = "https://bot.example.org"


@dataclass(frozen=True)
class SlackConfig:
    """guidebot's settings under test: the core's, and the Slack adapter's own, both pointed at the fake."""

    settings: Settings
    slack: SlackSettings


def slack_settings(base: Settings, tmp_path: Any, fake: FakeSlack, **update: Any) -> SlackConfig:
    """`base` settings (the session's real index) with a private SQLite store and Slack pointed at `fake`.

    `update` changes core settings (`work_lease_seconds=1`) or Slack's, named as their variables are
    (`slack_bot_token=None` for `SLACK_BOT_TOKEN`, `slack_app_token="xapp-…"`).
    """
    slack: dict[str, Any] = {"bot_token": "xoxb-test-token", "signing_secret": SIGNING_SECRET, "app_token": None, "api_url": fake.api_url}
    slack.update({key.removeprefix("slack_"): value for key, value in update.items() if key.startswith("slack_")})
    core = {"database_url": f"sqlite:///{tmp_path}/state.sqlite3", "public_url": PUBLIC_URL}
    core.update({key: value for key, value in update.items() if not key.startswith("slack_")})
    settings = base.model_copy(update=core)
    settings.__dict__.pop("resolved_database_url", None)  # a cached_property copied from `base`
    return SlackConfig(settings, SlackSettings(**slack))


@dataclass
class SlackEnv:
    """The aiohttp app with the Slack adapter mounted, on 127.0.0.1, and the fake Slack it talks to."""

    fake: FakeSlack
    client: Any  # aiohttp.test_utils.TestClient
    guidebot: Any
    adapter: Any

    async def post(self, body: str | bytes, *, content_type: str = "application/json", signed: bool = True, timestamp: int | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type, **(sign(body, timestamp=timestamp) if signed else {}), **(headers or {})}
        response = await self.client.post("/slack/events", data=body, headers=all_headers)
        return response.status, await response.text()

    async def send_event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> tuple[int, str]:
        body = json.dumps(event_callback(event, event_id))
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(body, headers=extra)

    async def command(self, text: str, **kwargs: Any) -> str:
        """`/guide <text>`; returns the response_url the reply goes to."""
        url = self.fake.response_url()
        status, _ = await self.post(command_form(text, url, **kwargs), content_type="application/x-www-form-urlencoded")
        assert status == 200
        return url

    async def click(self, action: dict[str, Any], *, response_url: str | None = None, **kwargs: Any) -> str:
        url = response_url or self.fake.response_url()
        status, _ = await self.post(block_actions_form(action, url, **kwargs), content_type="application/x-www-form-urlencoded")
        assert status == 200
        return url

    async def idle(self, timeout: float = 20.0) -> None:
        """Wait until the adapter has finished the work it started after acknowledging."""
        assert await self.adapter.background.idle(timeout), "the Slack adapter is still busy"


async def start_env(config: SlackConfig, embedder: Any, fake: FakeSlack) -> SlackEnv:
    from aiohttp.test_utils import TestClient

    from adapters.slack import mount
    from adapters.slack.app import SLACK_ADAPTER
    from bot.wiring import build_guidebot

    guidebot = build_guidebot(config.settings, embedder)
    app = web.Application()
    mount(app, guidebot, config.settings, config.slack)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return SlackEnv(fake, client, guidebot, app[SLACK_ADAPTER])


async def stop_env(env: SlackEnv, close_fake: bool = True) -> None:
    await env.client.close()
    if close_fake:
        await env.fake.close()
    env.guidebot.store.close()
