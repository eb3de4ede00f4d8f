"""A local Bot Framework connector that records what the bot sends, for end-to-end Teams tests.

It answers the connector REST calls the bot makes (the activities' `serviceUrl`
points here):

- `POST /v3/conversations/{conversationId}/activities`: a new message;
- `POST /v3/conversations/{conversationId}/activities/{activityId}`: a reply (channel reply chains);
- `PUT  /v3/conversations/{conversationId}/activities/{activityId}`: a card update.

`fail_next(status, times, retry_after)` makes the next calls fail first (429 / 503 …),
the way the real connector does under load; failed calls are counted in
`attempts` but not recorded as delivered. `FakeConnector(random_failures=RandomFailures(...))`
fails a random share of the calls instead, as the connector does under load.

`TeamsHarness` runs an aiohttp application with the Teams adapter mounted (the
real botbuilder SDK, the real core) on 127.0.0.1 and builds Bot Framework
activities whose `serviceUrl` is the fake connector.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams.app import TEAMS_ENDPOINT
from adapters.teams.settings import TeamsSettings
from bot.service import Guidebot
from bot.settings import Settings
from guidebot_testing.faults import RandomFailures


@dataclass(frozen=True)
class Sent:
    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    id: str
    peer: tuple[str, int] | None = None
    """The bot's end of the TCP connection the call came over."""

    @property
    def is_reply(self) -> bool:
        return self.method == "POST" and self.activity_id is not None

    @property
    def is_update(self) -> bool:
        return self.method == "PUT"

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or ():
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None


@dataclass
class FakeConnector:
    sent: list[Sent] = field(default_factory=list)
    attempts: int = 0
    _faults: deque[tuple[int, str | None]] = field(default_factory=deque)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None
    random_failures: RandomFailures | None = None
    """Fail a random share of the calls with 429 or 5xx, besides `fail_next()`."""

    def fail_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self._faults.extend([(status, retry_after)] * times)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/") + "/"

    def messages(self) -> list[Sent]:
        return [s for s in self.sent if not s.is_update]

    def updates(self) -> list[Sent]:
        return [s for s in self.sent if s.is_update]

    async def _handle(self, request: web.Request) -> web.Response:
        if self.random_failures is not None:
            failure = self.random_failures.draw("teams")
            if failure is not None:
                self.fail_next(failure.status, retry_after=None if failure.retry_after is None else str(failure.retry_after))
        self.attempts += 1
        if self._faults:
            status, retry_after = self._faults.popleft()
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return web.json_response({"error": {"code": "Throttled", "message": "try later"}}, status=status, headers=headers)
        body = json.loads(await request.read())
        activity_id = request.match_info.get("activity_id")
        new_id = activity_id if request.method == "PUT" and activity_id else f"bot-msg-{next(self._ids)}"
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        self.sent.append(Sent(request.method, request.match_info["conversation_id"], activity_id, body, new_id, tuple(peer[:2]) if peer else None))
        return web.json_response({"id": new_id})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._handle)
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{activity_id}", self._handle)
        app.router.add_put("/v3/conversations/{conversation_id}/activities/{activity_id}", self._handle)
        return app

    async def start(self) -> FakeConnector:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


BOT_ID = "28:guidebot-bot-id"
BOT_NAME = "guidebot"
MEMBER = {"id": "29:member-1", "name": "Dr Ada Lovelace", "aadObjectId": "00000000-0000-0000-0000-00000000a11c"}
TENANT = {"id": "tenant-1"}
_IDS = itertools.count(1_700_000_000_000)


def next_id() -> str:
    return str(next(_IDS))


@dataclass
class TeamsHarness:
    client: TestClient
    connector: FakeConnector
    guidebot: Guidebot

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None, settle: bool = True) -> tuple[int, Any]:
        """Post like Teams; with `settle`, return once the answers started after the 200 are done too."""
        response = await self.client.post("/api/messages", json=activity, headers=headers or {})
        body = await response.read()
        if settle:
            await self.idle()
        try:
            return response.status, await response.json(content_type=None) if body else None
        except ValueError:
            return response.status, body.decode(errors="replace")

    async def idle(self, timeout: float = 30.0) -> None:
        assert self.client.app is not None
        endpoint = self.client.app.get(TEAMS_ENDPOINT)
        if endpoint is not None:
            assert await endpoint.answering.background.idle(timeout), "the Teams adapter is still answering"

    def activity(self, kind: str, **fields: Any) -> dict[str, Any]:
        activity = {
            "type": kind,
            "id": next_id(),
            "timestamp": "2025-01-01T12:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": dict(MEMBER),
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"id": "a:personal-chat-1", "conversationType": "personal", "tenantId": TENANT["id"]},
            "channelData": {"tenant": TENANT},
            "locale": "en-US",
        }
        activity.update(fields)
        return activity

    def message(self, text: str, **fields: Any) -> dict[str, Any]:
        return self.activity("message", text=text, textFormat="plain", **fields)

    def channel_mention(self, question: str, thread_root: str = "1700000000001") -> dict[str, Any]:
        channel = "19:guide-channel@thread.tacv2"
        mention = f"<at>{BOT_NAME}</at>"
        return self.message(
            f"{mention} {question}",
            conversation={"id": f"{channel};messageid={thread_root}", "conversationType": "channel", "isGroup": True},
            entities=[{"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}],
            channelData={"teamsChannelId": channel, "teamsTeamId": "19:team@thread.tacv2", "channel": {"id": channel},
                         "team": {"id": "19:team@thread.tacv2"}, "tenant": TENANT},
        )

    def feedback_invoke(self, reaction: str, reply_to: str | None, text: str | None = None) -> dict[str, Any]:
        action: dict[str, Any] = {"reaction": reaction}
        if text is not None:
            action["feedback"] = '{"feedbackText":"%s"}' % text
        fields: dict[str, Any] = {"name": "message/submitAction", "value": {"actionName": "feedback", "actionValue": action}}
        if reply_to is not None:
            fields["replyToId"] = reply_to
        return self.activity("invoke", **fields)


@dataclass(frozen=True)
class TeamsConfig:
    """guidebot's settings under test: the core's, and the Teams adapter's own."""

    settings: Settings
    teams: TeamsSettings


def teams_config(base: Settings, **update: Any) -> TeamsConfig:
    """`base` with `update`, and Teams in local mode (no app id, the fake connector on loopback) unless told.

    Teams' own settings are named in `update` as their variables are: `microsoft_app_id=…` for
    `MICROSOFT_APP_ID`, `teams_local_mode=False` for `GUIDEBOT_TEAMS_LOCAL_MODE`; the rest are the core's.
    """
    teams: dict[str, Any] = {"local_mode": True, "app_id": None, "app_password": None, "app_tenant_id": None}
    core: dict[str, Any] = {}
    for key, value in update.items():
        if key.startswith(("teams_", "microsoft_")):
            teams[key.removeprefix("microsoft_").removeprefix("teams_")] = value
        else:
            core[key] = value
    settings = base.model_copy(update=core)
    settings.__dict__.pop("resolved_database_url", None)  # a cached_property copied from `base`
    return TeamsConfig(settings, TeamsSettings(**teams))


async def start_harness(app: web.Application, connector: FakeConnector, guidebot: Guidebot) -> TeamsHarness:
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return TeamsHarness(client, connector, guidebot)
