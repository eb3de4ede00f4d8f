"""Teams must not post where a request tells it to, nor keep more of a member than a reply needs.

- A lease holds a projection of the question (ids for the reply, the member
  hashed, the text cut and redacted): no name, no raw id, no attachment; and
  the privacy guard that redacts it runs off the event loop.
- Local development mode is an explicit opt-in, accepts only loopback hosts and
  service URLs, and connector calls time out quickly.
- Recovery replays a lease with the app's credentials only when it was leased
  for this app id, to an allowed Bot Framework host, and gives up (counted)
  after a bounded number of tries.
- Microsoft's signing keys are downloaded off the event loop with a timeout; a
  failed download is remembered and requests are refused meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams import mount
from adapters.teams.answering import RECOVERY_ABANDONED, WORK_PREFIX, Lease, reply_projection
from adapters.teams.app import TEAMS_ENDPOINT
from bot.settings import Settings
from bot.wiring import build_guidebot
from guidebot_testing.teams import FakeConnector, TeamsConfig, TeamsHarness, start_harness, teams_config
from index.embedder import Embedder
from index.guide_index import GuideIndex

QUESTION = "What does a VPMA do?"
APP_ID = "6f1b2c3d-0000-4000-8000-000000000001"


def _settings(guide_settings: Settings, tmp_path: Path, **extra: Any) -> TeamsConfig:
    return teams_config(guide_settings, database_url=f"sqlite:///{tmp_path}/t.sqlite3", work_lease_seconds=1, **extra)


class Harnesses:
    def __init__(self, guide_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
        self.guide_settings, self.embedder, self.tmp_path = guide_settings, embedder, tmp_path
        self.opened: list[tuple[TeamsHarness, FakeConnector]] = []

    async def start(self, connector: FakeConnector | None = None, **settings: Any) -> TeamsHarness:
        connector = connector or await FakeConnector().start()
        config = _settings(self.guide_settings, self.tmp_path, **settings)
        guidebot = build_guidebot(config.settings, self.embedder)
        app = web.Application()
        mount(app, guidebot, config.settings, config.teams)
        harness = await start_harness(app, connector, guidebot)
        self.opened.append((harness, connector))
        return harness

    async def close(self) -> None:
        for harness, connector in self.opened:
            await harness.client.close()
            await connector.close()
            harness.guidebot.store.close()


@pytest.fixture()
async def harnesses(guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, tmp_path: Path) -> AsyncIterator[Harnesses]:
    made = Harnesses(guide_settings, embedder, tmp_path)
    yield made
    await made.close()


def lease_key(activity: dict[str, Any]) -> str:
    return f"{WORK_PREFIX}{activity['conversation']['id']}:{activity['id']}"


def stored(tmp_path: Path, key: str) -> str | None:
    with sqlite3.connect(tmp_path / "t.sqlite3") as db:
        row = db.execute("SELECT work FROM claims WHERE claim_key = ?", (key,)).fetchone()
    return row[0] if row else None


def finished(tmp_path: Path, key: str) -> bool:
    """The lease was completed (answered or given up); read without claiming it."""
    with sqlite3.connect(tmp_path / "t.sqlite3") as db:
        row = db.execute("SELECT pending, work FROM claims WHERE claim_key = ?", (key,)).fetchone()
    return row is not None and not row[0] and row[1] is None


async def until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def abandoned(reason: str) -> float:
    return RECOVERY_ABANDONED.labels(reason)._value.get()


# --- what a lease holds ------------------------------------------------------------------


async def test_a_lease_holds_no_name_raw_id_or_attachment_and_recovery_still_answers(harnesses: Harnesses, tmp_path: Path) -> None:
    teams = await harnesses.start()
    activity = teams.message(
        "MRN 55512345: what does a VPMA do?",
        attachments=[{"contentType": "text/html", "content": "<div>MRN 55512345: what does a VPMA do?</div>"}],
    )
    teams.connector.fail_next(503, times=5)  # the live answer cannot be delivered: the lease stays

    status, _ = await teams.post(activity)
    work = stored(tmp_path, lease_key(activity))

    assert status == 200 and work is not None
    for leak in ("Lovelace", "29:member-1", "00000000-0000-0000-0000-00000000a11c", "aadObjectId", "attachments", "55512345", "text/html"):
        assert leak not in work, leak
    lease = Lease.loads(work)
    assert lease.activity["from"]["id"] == teams.guidebot.store.member_hash("teams", "00000000-0000-0000-0000-00000000a11c")
    assert "[MRN]" in lease.activity["text"] and lease.app_id is None
    await until(lambda: len(teams.connector.messages()) == 1, what="the recovered answer")
    assert teams.connector.messages()[0].conversation_id == activity["conversation"]["id"]
    await teams.idle()
    member = teams.guidebot.store.member_hash("teams", "00000000-0000-0000-0000-00000000a11c")
    assert {q.user_hash for q in teams.guidebot.store.questions()} == {member}, "the recovered answer is the member's"


async def test_a_huge_question_is_cut_before_the_guard_and_the_guard_never_holds_the_event_loop(harnesses: Harnesses, tmp_path: Path) -> None:
    teams = await harnesses.start(max_question_chars=500)
    teams.connector.fail_next(400)  # refused: nothing is answered, the lease is completed
    activity = teams.message("My patient's MRN is 1234567. " + "a." * 50_000)
    stalls: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    response = await teams.client.post("/api/messages", json=activity)
    work = stored(tmp_path, lease_key(activity))
    done.set()
    await ticker
    await teams.idle()

    assert response.status == 200
    assert work is not None and len(Lease.loads(work).activity["text"]) <= 500
    assert "1234567" not in work
    assert max(stalls) < 0.5, f"the event loop stood still for {max(stalls):.2f} s"


# --- local development mode --------------------------------------------------------------


async def test_without_an_app_id_teams_stays_idle_unless_local_mode_is_asked_for(harnesses: Harnesses) -> None:
    teams = await harnesses.start(teams_local_mode=False)

    status, body = await teams.post(teams.message(QUESTION))

    assert status == 503 and body["error"] == "teams_not_configured"
    assert teams.connector.attempts == 0


async def test_local_mode_refuses_a_request_addressed_to_a_host_that_is_not_loopback(harnesses: Harnesses) -> None:
    teams = await harnesses.start()

    status, _ = await teams.post(teams.message(QUESTION), headers={"Host": "rebound.example.org"})

    assert status == 403
    assert teams.connector.attempts == 0


@pytest.mark.parametrize(
    "service_url",
    ["http://203.0.113.7:9/", "https://smba.trafficmanager.net/amer/", "http://user:secret@127.0.0.1:9/", "ftp://127.0.0.1/"],
)
async def test_local_mode_posts_only_to_a_loopback_service_url(harnesses: Harnesses, service_url: str) -> None:
    teams = await harnesses.start()

    status, _ = await teams.post(teams.message(QUESTION, serviceUrl=service_url))
    invoke, _ = await teams.post(teams.feedback_invoke("like", reply_to=None) | {"serviceUrl": service_url})

    assert status == 400 and invoke == 400
    assert teams.guidebot.store.unfinished(WORK_PREFIX) == []


async def test_connector_calls_time_out_after_the_configured_seconds(harnesses: Harnesses) -> None:
    teams = await harnesses.start(teams_http_timeout_seconds=1.5)

    status, _ = await teams.post(teams.message(QUESTION))

    assert status == 200 and len(teams.connector.messages()) == 1
    clients = list(teams.client.server.app[TEAMS_ENDPOINT].authentication.connector_clients.live.values())
    assert clients and all(client.config.connection.timeout == 1.5 for client in clients)


# --- recovery ----------------------------------------------------------------------------


def _plant(teams: TeamsHarness, activity: dict[str, Any], work: str) -> str:
    key = lease_key(activity)
    assert teams.guidebot.store.claim_work(key, lease_seconds=1, work=work) == "won"
    return key


async def test_recovery_with_an_app_id_replays_no_lease_taken_in_local_mode(harnesses: Harnesses) -> None:
    teams = await harnesses.start(teams_local_mode=False, microsoft_app_id=APP_ID, microsoft_app_password="not-a-real-secret")
    local = teams.message(QUESTION)
    legacy = teams.message(QUESTION)  # what an older version stored: the whole activity
    before = abandoned("app_id") + abandoned("unreadable")
    keys = [
        _plant(teams, local, Lease(reply_projection(local, text=QUESTION, member="m"), app_id=None).dumps()),
        _plant(teams, legacy, json.dumps(legacy)),
    ]

    await until(lambda: all(finished(harnesses.tmp_path, k) for k in keys), what="both given up")

    assert teams.connector.attempts == 0
    assert abandoned("app_id") + abandoned("unreadable") - before == 2


async def test_recovery_gives_up_on_a_service_url_outside_the_allowed_hosts(harnesses: Harnesses) -> None:
    teams = await harnesses.start()
    activity = teams.message(QUESTION, serviceUrl="http://203.0.113.7:9/")
    before = abandoned("service_url")
    key = _plant(teams, activity, Lease(reply_projection(activity, text=QUESTION, member="m"), app_id=None).dumps())

    await until(lambda: finished(harnesses.tmp_path, key), what="given up")

    assert abandoned("service_url") - before == 1


async def test_recovery_gives_up_after_its_attempts_and_counts_it(harnesses: Harnesses) -> None:
    teams = await harnesses.start(teams_recovery_attempts=1)
    activity = teams.message(QUESTION)
    teams.connector.fail_next(503, times=1000)  # the connector never takes it
    before = abandoned("attempts")

    status, _ = await teams.post(activity)

    assert status == 200
    await until(lambda: finished(harnesses.tmp_path, lease_key(activity)), timeout=40, what="given up")
    assert abandoned("attempts") - before == 1
    assert teams.connector.messages() == []


# --- signing keys ------------------------------------------------------------------------


class SlowMetadata:
    """Microsoft's OpenID metadata endpoint, taking `delay` seconds to answer (or failing)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.requests = 0
        self.server: TestServer | None = None

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(self.delay)
        return web.json_response({"jwks_uri": str(request.url.with_path("/keys"))})

    async def _keys(self, _request: web.Request) -> web.Response:
        return web.json_response({"keys": []})

    async def start(self) -> SlowMetadata:
        app = web.Application()
        app.router.add_get("/metadata", self._metadata)
        app.router.add_get("/keys", self._keys)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/metadata"))


async def test_a_slow_signing_key_download_never_holds_the_event_loop_and_a_failure_is_remembered(
    guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, tmp_path: Path
) -> None:
    metadata = await SlowMetadata(delay=3.0).start()
    config = _settings(
        guide_settings, tmp_path, teams_local_mode=False, microsoft_app_id=APP_ID, microsoft_app_password="not-a-real-secret",
        teams_openid_metadata_url=metadata.url, teams_http_timeout_seconds=1.0,
    )
    guidebot = build_guidebot(config.settings, embedder)
    app = web.Application()
    mount(app, guidebot, config.settings, config.teams)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    forged = jwt.encode({"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": "https://smba.trafficmanager.net/amer/"},
                        "not-microsoft-but-a-key-of-32-bytes", algorithm="HS256", headers={"kid": "made-up"})
    connector = await FakeConnector().start()
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        teams = TeamsHarness(client, connector, guidebot)
        activity = teams.message(QUESTION, serviceUrl="https://smba.trafficmanager.net/amer/")
        headers = {"Authorization": f"Bearer {forged}"}
        first = asyncio.create_task(client.post("/api/messages", json=activity, headers=headers))
        await asyncio.sleep(0.3)  # the download is under way
        started = time.monotonic()
        health = await client.get("/healthz")
        health_seconds = time.monotonic() - started
        refused = await first
        started = time.monotonic()
        again = await client.post("/api/messages", json=activity, headers=headers)
        again_seconds = time.monotonic() - started

        assert health.status == 200 and health_seconds < 0.5, f"/healthz waited {health_seconds:.1f} s"
        assert refused.status == 401 and again.status == 401
        assert again_seconds < 0.5 and metadata.requests == 1
        assert connector.attempts == 0
    finally:
        await client.close()
        await connector.close()
        assert metadata.server is not None
        await metadata.server.close()
        guidebot.store.close()
