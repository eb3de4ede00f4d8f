"""Slack and Teams over HTTP: ack latency and answers delivered per second, 50 members at once.

`guidebot serve` runs as a subprocess with Slack and Teams wired to the
recording fakes of `guidebot_testing`, served from this process on 127.0.0.1:
Slack's Web API (`guidebot_testing.slack.FakeSlack`) and the Bot Framework connector
(`guidebot_testing.teams.FakeConnector`). Each of `clients` simulated members sends a
question, waits for the acknowledgement (the HTTP response), then for the
answer to reach the fake, then asks the next one, so at most `clients`
questions are in flight, as with that many members typing. Every question is
worded differently, so none is answered from the cache.

- Slack: signed Events API callbacks (`POST /slack/events`), alternately a DM
  (`message.im`) and a channel `app_mention` answered in a thread. Slack wants
  the ack within 3 seconds; the target is 100 ms at p99. The answer arrives
  later as `chat.postMessage`.
- Teams: Bot Framework `message` activities (`POST /api/messages`, local mode:
  no token; the caller's server runs with `GUIDEBOT_TEAMS_LOCAL_MODE=1`, as
  `guidebot_testing.servers.server_env` sets it). The adapter leases the question and answers 200 at once; the turn
  runs after the ack and its reply reaches the connector later.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.stats import Sample
from guidebot_testing.servers import RunningServer
from guidebot_testing.slack import BOT_USER_ID, SIGNING_SECRET, FakeSlack, event_callback, sign
from guidebot_testing.teams import BOT_ID, BOT_NAME, FakeConnector

ANSWER_TIMEOUT = 60.0
SCAN_SECONDS = 0.002
PROBE_SECONDS = 0.02
_ids = itertools.count(1)
"""Message and event ids, unique across runs: a repeated id is (rightly) not answered twice."""


@dataclass
class PlatformResult:
    platform: str
    questions: int
    acks: Sample
    """Seconds from sending a question to its HTTP response."""
    answers: Sample
    """Seconds from sending a question to its answer reaching the fake platform."""
    answers_per_second: float
    failed: int = 0
    """Questions not acknowledged with 2xx, or not answered in time."""
    statuses: dict[int | str, int] = field(default_factory=dict)
    """HTTP statuses, and errors by name (a dropped connection, say), with their counts."""
    probe: Sample = field(default_factory=lambda: Sample.of([]))
    """Seconds for an empty request (`GET /healthz`) sent now and then during the same load: the baseline
    an ack is compared with, since it waits for the same event loop and cores but does no work of its own."""
    round_ack_p99s: tuple[float, ...] = ()
    """Each round's ack p99: how much of the pooled figure is one noisy spell of the machine."""

    @classmethod
    def pooled(cls, rounds: list[PlatformResult]) -> PlatformResult:
        """The rounds as one sample (their acks and answers together); throughput is the median round's."""
        statuses: dict[int | str, int] = {}
        for r in rounds:
            for status, count in r.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        return cls(
            rounds[0].platform,
            sum(r.questions for r in rounds),
            Sample.of([v for r in rounds for v in r.acks.values]),
            Sample.of([v for r in rounds for v in r.answers.values]),
            statistics.median(r.answers_per_second for r in rounds),
            sum(r.failed for r in rounds),
            statuses,
            Sample.of([v for r in rounds for v in r.probe.values]),
            tuple(r.acks.p99 for r in rounds),
        )


class _Arrivals:
    """Futures resolved when the fake platform records a reply for a conversation."""

    def __init__(self, replies: Callable[[], list[Any]], key: Callable[[Any], str | None]) -> None:
        self._replies, self._key = replies, key
        self._seen = 0
        self._waiting: dict[str, asyncio.Future[float]] = {}
        self._task: asyncio.Task[None] | None = None

    def expect(self, conversation: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[conversation] = future
        return future

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._scan())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _scan(self) -> None:
        while True:
            replies = self._replies()
            now = time.perf_counter()
            while self._seen < len(replies):
                conversation = self._key(replies[self._seen])
                self._seen += 1
                future = self._waiting.pop(conversation, None) if conversation else None
                if future is not None and not future.done():
                    future.set_result(now)
            await asyncio.sleep(SCAN_SECONDS)


async def _load(
    base: str,
    path: str,
    request: Callable[[int], tuple[str, bytes, dict[str, str]]],
    arrivals: _Arrivals,
    questions: int,
    clients: int,
    platform: str,
) -> PlatformResult:
    acks: list[float] = []
    answers: list[float] = []
    statuses: dict[int | str, int] = {}
    failed = 0
    numbers = iter(range(questions))
    arrivals.start()
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients), timeout=timeout) as session:

        async def member() -> None:
            nonlocal failed
            for n in numbers:
                conversation, body, headers = request(n)
                arrived = arrivals.expect(conversation)
                started = time.perf_counter()
                try:
                    async with session.post(base + path, data=body, headers=headers) as response:
                        await response.read()
                        acked = time.perf_counter()
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    statuses[type(error).__name__] = statuses.get(type(error).__name__, 0) + 1
                    failed += 1
                    continue
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if not 200 <= response.status < 300:
                    failed += 1
                    continue
                acks.append(acked - started)
                try:
                    answers.append(await asyncio.wait_for(arrived, ANSWER_TIMEOUT) - started)
                except asyncio.TimeoutError:
                    failed += 1

        probes: list[float] = []

        async def probe() -> None:
            while True:
                await asyncio.sleep(PROBE_SECONDS)
                sent = time.perf_counter()
                async with session.get(base + "/healthz") as response:
                    await response.read()
                probes.append(time.perf_counter() - sent)

        started = time.perf_counter()
        prober = asyncio.create_task(probe())
        await asyncio.gather(*(member() for _ in range(clients)))
        elapsed = time.perf_counter() - started
        prober.cancel()
        await asyncio.gather(prober, return_exceptions=True)
    await arrivals.stop()
    return PlatformResult(
        platform, questions, Sample.of(acks), Sample.of(answers), len(answers) / elapsed, failed, statuses, Sample.of(probes)
    )


async def slack_load(base: str, fake: FakeSlack, asked: list[str], clients: int) -> PlatformResult:
    """Signed events; the answer is the `chat.postMessage` in the question's DM or thread."""

    def key(call: Any) -> str | None:
        if call.method != "chat.postMessage" or not call.ok:
            return None
        return f"{call.body.get('channel')}/{call.body.get('thread_ts') or ''}"

    def request(i: int) -> tuple[str, bytes, dict[str, str]]:
        n = next(_ids)
        ts = f"1713{n:06d}.000100"
        if n % 2:
            channel = f"C{n % 40:08d}"
            event = {"type": "app_mention", "user": f"U{n:08d}", "text": f"<@{BOT_USER_ID}> {asked[i]}", "ts": ts, "channel": channel, "event_ts": ts}
            conversation = f"{channel}/{ts}"
        else:
            channel = f"D{n:08d}"
            event = {"type": "message", "channel_type": "im", "user": f"U{n:08d}", "text": asked[i], "ts": ts, "channel": channel, "event_ts": ts}
            conversation = f"{channel}/"
        body = json.dumps(event_callback(event, f"EvBench{n:08d}"))
        return conversation, body.encode(), {"Content-Type": "application/json", **sign(body, SIGNING_SECRET)}

    return await _load(base, "/slack/events", request, _Arrivals(lambda: fake.calls, key), len(asked), clients, "slack")


async def teams_load(base: str, connector: FakeConnector, asked: list[str], clients: int) -> PlatformResult:
    """Message activities in personal chats; the answer is the activity sent to the chat."""

    def key(sent: Any) -> str | None:
        return None if sent.is_update else sent.conversation_id

    def request(i: int) -> tuple[str, bytes, dict[str, str]]:
        n = next(_ids)
        conversation = f"a:bench-{n}"
        activity = {
            "type": "message",
            "id": f"bench-{n}",
            "timestamp": "2026-01-01T12:00:00.000Z",
            "serviceUrl": connector.url,
            "channelId": "msteams",
            "from": {"id": f"29:member-{n}", "name": "Dr Member", "aadObjectId": f"aad-member-{n}"},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"id": conversation, "conversationType": "personal", "tenantId": "tenant-1"},
            "channelData": {"tenant": {"id": "tenant-1"}},
            "locale": "en-US",
            "text": asked[i],
            "textFormat": "plain",
        }
        return conversation, json.dumps(activity).encode(), {"Content-Type": "application/json"}

    return await _load(base, "/api/messages", request, _Arrivals(lambda: connector.sent, key), len(asked), clients, "teams")


async def run_platforms(
    start: Callable[[dict[str, str]], RunningServer],
    asked: list[str],
    clients: int,
    rounds: int = 1,
) -> list[PlatformResult]:
    """Start the fakes, then the server pointed at them (`start(env)`, stopped here), and load each platform.

    The clients' own process holds whatever the caller loaded (`bench.run`: the model, the index,
    earlier results); its heap is frozen meanwhile, so that a full collection of it (~90 ms) does not
    stall the clients and count as the server's latency.
    """
    gc.collect()
    gc.freeze()
    try:
        return await _run_platforms(start, asked, clients, rounds)
    finally:
        gc.unfreeze()


async def _run_platforms(
    start: Callable[[dict[str, str]], RunningServer],
    asked: list[str],
    clients: int,
    rounds: int,
) -> list[PlatformResult]:
    fake = await FakeSlack().start()
    connector = await FakeConnector().start()
    try:
        env = {"SLACK_BOT_TOKEN": "xoxb-bench-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url}
        server = await asyncio.to_thread(start, env)
        base = server.url
        try:
            # A few questions first, so Bolt's one-off auth.test and first-request set-up are not timed.
            await slack_load(base, fake, [f"warm-up {q}" for q in asked[:4]], 2)
            await teams_load(base, connector, [f"warm-up {q}" for q in asked[:4]], 2)
            # Slack and Teams take turns, round after round, so a noisy spell of the machine falls on both.
            share = len(asked) // (2 * rounds)
            slack: list[PlatformResult] = []
            teams: list[PlatformResult] = []
            for n in range(rounds):
                part = asked[2 * n * share : 2 * (n + 1) * share]
                slack.append(await slack_load(base, fake, part[:share], clients))
                teams.append(await teams_load(base, connector, part[share:], clients))
        finally:
            await asyncio.to_thread(server.stop)
    finally:
        await fake.close()
        await connector.close()
    return [PlatformResult.pooled(slack), PlatformResult.pooled(teams)]
