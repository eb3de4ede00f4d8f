"""The engine of `make stress`: thousands of questions through Slack and Teams while everything around the bot fails.

Starts `guidebot serve` as a subprocess on a free 127.0.0.1 port (`guidebot_testing.servers`),
with Slack and Teams wired to the recording fakes (`guidebot_testing.slack`, `guidebot_testing.teams`),
told to misbehave the way the real platforms do under load (`guidebot_testing.faults`):

- 10 % of the bot's posts get 429 with `Retry-After`, 5 % get 500 / 503;
- 20 % of Slack events are delivered again as retries (`X-Slack-Retry-Num`,
  same event id), and half the channel mentions come with the `message` event
  Slack sends alongside an `app_mention`;
- 10 % of Teams activities are resent (same activity id);
- halfway through (`--kill-at`), the server is killed with SIGKILL and started
  again on the same data dir; requests it never acknowledged are retried the
  way each platform retries them;
- hostile senders (`--hostile-senders`, 2 by default) run beside the members:
  100 KB questions of pathological text on Slack, Teams and `/api/ask`, JSON
  nested thousands deep and lone surrogates on every JSON endpoint, and
  attempts to use Teams' local mode as a relay (a foreign `serviceUrl`, one
  with credentials, a loopback one behind a rebound `Host`) aimed at a second
  recording connector that must receive nothing.

N simulated members (`--concurrency`) each ask, wait for their answer, now and
then click 👍 / 👎, and ask again, until `--questions` have been asked. The
figures: questions sent, answers delivered, duplicates (more than one answer
to one question), lost (no answer), errors (5xx from guidebot, unhandled
exceptions in its log), ack times, and whether every acknowledged feedback
click is in the database afterwards. Pass: no duplicate, nothing lost, no
error, every ack (Slack and Teams) under 3 s, no acknowledged feedback missing,
every hostile request answered as it should be (never a 5xx) and nothing relayed.

One kind of second answer is counted apart, not failed: a reply the platform
accepted in the instant before the SIGKILL, before guidebot could record it,
which the platform's retry then gets again (`crash_redeliveries`; Teams only
since Slack recoveries read the thread back first). Delivery across a kill is
at least once; no design can make it exactly once without a read-back, and
Teams offers a bot none. Everything runs on loopback and stops by itself
(`--time-limit`); `--keep DIR` keeps the server log and database.

`python -m bench.stress` runs it from the command line and writes the figures to BENCHMARKS.md;
`tests/test_stress.py` runs a smaller plan with the same pass criteria.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.service import UNATTRIBUTED_PREFIX
from bot.settings import PROJECT_ROOT, Settings
from bot.store import SqlStore
from guidebot_testing.faults import RandomFailures
from guidebot_testing.servers import GUIDEBOT, UNHANDLED_MESSAGES, RunningServer, seed_index, serve, server_env
from guidebot_testing.slack import BOT_USER_ID, SIGNING_SECRET, TEAM_ID, FakeSlack, event_callback, sign
from guidebot_testing.teams import BOT_ID, BOT_NAME, FakeConnector
from knowledge.yamlfile import read_yaml

SLACK_ACK_LIMIT = 3.0
"""Slack retries any event not acknowledged within 3 seconds."""
TEAMS_ACK_LIMIT = 3.0
"""Teams waits 15 s, but the issue asks every ack under 3 s: the Teams adapter leases a question,
acknowledges it and answers after, as the Slack adapter does."""
PLATFORM_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""When a platform re-delivers a request guidebot did not acknowledge (Slack: immediately, 1 min, 5 min; compressed)."""
FAILURE_TEXT = "I couldn't answer that just now"


@dataclass(frozen=True)
class Faults:
    """How often the platforms misbehave."""

    rate_limited: float = 0.10
    server_error: float = 0.05
    retry_after_seconds: int = 1
    slack_retry: float = 0.20
    teams_resend: float = 0.10
    mention_with_message_event: float = 0.5


@dataclass(frozen=True)
class StressPlan:
    questions: int = 10_000
    concurrency: int = 50
    kill_at: float | None = 0.5
    """Fraction of the questions after which the server is SIGKILLed and restarted; None: never."""
    database_url: str | None = None
    """PostgreSQL URL (a fresh schema is made in it), or None for SQLite in the fresh data dir."""
    feedback_rate: float = 0.05
    seed: int = 8
    answer_timeout: float = 120.0
    time_limit: float = 900.0
    work_lease_seconds: int = 10
    faults: Faults = field(default_factory=Faults)
    mix: tuple[tuple[str, float], ...] = (("slack-mention", 0.35), ("slack-dm", 0.35), ("teams", 0.30))
    hostile_senders: int = 2
    """Senders of huge, pathological and relaying requests beside the members (0: none)."""
    hostile_interval: float = 0.25
    """Seconds between one hostile sender's requests."""


# --------------------------------------------------------------------------------------------- the fakes, misbehaving


def _failures(faults: Faults, seed: int) -> RandomFailures:
    return RandomFailures(faults.rate_limited, faults.server_error, faults.retry_after_seconds, random.Random(seed))


def _injected(failures: RandomFailures | None) -> Counter[str]:
    return failures.injected if failures is not None else Counter()


# --------------------------------------------------------------------------------------------- questions and answers


def question_bank() -> list[str]:
    """What members ask: the guide's in-scope and out-of-scope banks, and the shared commands."""
    texts: list[str] = []
    for path in sorted((PROJECT_ROOT / "knowledge" / "questions").glob("*.yaml")):
        data = read_yaml(path) or {}
        for questions in (data.get("questions") or {}).values():
            texts.extend(q for q in questions if isinstance(q, str))
    texts.extend(["role vpma", "credential mba", "path", "roles", "help", "and the MHA?"])
    return texts


@dataclass
class Asked:
    """One member's question, its deliveries and what came back."""

    n: int
    kind: str
    text: str
    user: str
    channel: str
    ts: str
    event_id: str
    activity_id: str
    answers: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0
    acked: bool = False
    acked_before_kill: bool = False
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    turn_done: bool = False

    @property
    def platform(self) -> str:
        return "teams" if self.kind == "teams" else "slack"

    @property
    def ledger_key(self) -> tuple[str, str | None]:
        if self.kind == "slack-mention":
            return (self.channel, self.ts)
        if self.kind == "slack-dm":
            return (self.channel, None)
        return ("teams", self.channel)


@dataclass
class Figures:
    """What `make stress` reports."""

    questions: int = 0
    answers_delivered: int = 0
    failure_notices: int = 0
    duplicates: int = 0
    crash_redeliveries: int = 0
    """Duplicates whose first copy reached the platform just before the SIGKILL, before guidebot could
    record it, and whose second came from the retry or recovery after the restart (at-least-once)."""
    lost: int = 0
    errors_5xx: int = 0
    unhandled_errors: int = 0
    logged_delivery_failures: int = 0
    slack_retries_sent: int = 0
    teams_resends_sent: int = 0
    companion_message_events: int = 0
    redeliveries_after_no_ack: int = 0
    busy_replies: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    slack_acks: list[float] = field(default_factory=list)
    teams_acks: list[float] = field(default_factory=list)
    feedback_acknowledged: int = 0
    feedback_missing: int = 0
    feedback_unattributed: int = 0
    """Acknowledged votes stored, but not on their answer: a Teams vote on a reply whose id was not linked to its
    answer in time (the kill came between the send and the link, or the link came later than the vote's wait for it;
    Teams cannot tell the bot which reply it was). Bounded by the questions in flight at the kill."""
    feedback_not_acknowledged: int = 0
    killed: bool = False
    in_flight_at_kill: int = 0
    restart_seconds: float = 0.0
    seconds: float = 0.0
    backend: str = "sqlite"
    lost_examples: list[str] = field(default_factory=list)
    duplicate_examples: list[str] = field(default_factory=list)
    crash_examples: list[str] = field(default_factory=list)
    error_examples: list[str] = field(default_factory=list)
    timed_out: bool = False
    hostile_sent: dict[str, int] = field(default_factory=dict)
    hostile_unexpected: int = 0
    """Hostile requests answered otherwise than they should be (a 5xx, or accepted where refusal was due)."""
    relayed: int = 0
    """Calls that reached the relay target: the bot posting where a hostile activity told it to."""
    hostile_examples: list[str] = field(default_factory=list)

    @property
    def acks_over_limit(self) -> int:
        return sum(a > SLACK_ACK_LIMIT for a in self.slack_acks) + sum(a > TEAMS_ACK_LIMIT for a in self.teams_acks)

    @property
    def passed(self) -> bool:
        return (
            self.duplicates - self.crash_redeliveries == 0
            and self.lost == 0
            and self.errors_5xx == 0
            and self.unhandled_errors == 0
            and self.acks_over_limit == 0
            and self.feedback_missing == 0
            and self.feedback_unattributed <= self.in_flight_at_kill
            and self.hostile_unexpected == 0
            and self.relayed == 0
            and not self.timed_out
        )

    def failures_text(self) -> list[str]:
        reasons = []
        for name, value in (("duplicates", self.duplicates - self.crash_redeliveries), ("lost", self.lost), ("5xx", self.errors_5xx),
                            ("unhandled errors", self.unhandled_errors), ("acks over the limit", self.acks_over_limit),
                            ("acknowledged feedback missing", self.feedback_missing),
                            ("hostile requests answered wrongly", self.hostile_unexpected), ("relayed calls", self.relayed)):
            if value:
                reasons.append(f"{value} {name}")
        if self.feedback_unattributed > self.in_flight_at_kill:
            reasons.append(f"{self.feedback_unattributed} votes stored unattributed, more than the {self.in_flight_at_kill} in flight at the kill")
        if self.timed_out:
            reasons.append("time limit reached")
        return reasons


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------------------------------------- the run


class StressRun:
    def __init__(self, plan: StressPlan, workdir: Path) -> None:
        self.plan = plan
        self.workdir = workdir
        self.rng = random.Random(plan.seed)
        self.slack = FakeSlack(random_failures=_failures(plan.faults, plan.seed + 1))
        self.connector = FakeConnector(random_failures=_failures(plan.faults, plan.seed + 2))
        self.relay_target = FakeConnector()
        self.hostile_sent: Counter[str] = Counter()
        self._hostile_stop = asyncio.Event()
        self.bank = question_bank()
        self.figures = Figures(backend="postgresql" if plan.database_url else "sqlite")
        self.asked: list[Asked] = []
        self.by_key: dict[tuple[str, str | None], Asked] = {}
        self.feedback_expected: list[tuple[Asked, tuple[str, str], str]] = []  # (question, (platform, member id), what)
        self.server: RunningServer | None = None
        self.server_cm: contextlib.AbstractContextManager[RunningServer] | None = None
        self.up = asyncio.Event()
        self.killed_at: float | None = None
        self.port = 0
        self._next = itertools.count()
        self._slack_seen = 0
        self._teams_seen = 0
        self._side_tasks: set[asyncio.Task[None]] = set()
        self.deadline = 0.0

    # ------------------------------------------------------------------ server

    def _env(self) -> dict[str, str]:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-stress-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "GUIDEBOT_LOG_LEVEL": "INFO",
            "GUIDEBOT_WORK_LEASE_SECONDS": str(self.plan.work_lease_seconds),
        }
        if self.plan.database_url:
            env["GUIDEBOT_DATABASE_URL"] = self.plan.database_url
        return env

    def _start_server(self, port: int | None) -> RunningServer:
        manager = serve(self._env(), data_dir=self.workdir / "data", port=port, log_path=self.workdir / "server.log")
        server = manager.__enter__()
        self.server_cm, self.server = manager, server
        return server

    def _stop_server(self) -> None:
        if self.server_cm is not None:
            self.server_cm.__exit__(None, None, None)
            self.server_cm = None

    async def _kill_and_restart(self) -> None:
        assert self.server is not None
        self.up.clear()
        self.killed_at = time.monotonic()
        self.figures.killed = True
        self.figures.in_flight_at_kill = sum(1 for a in self.asked if not a.answered.is_set())
        for asked in self.asked:
            asked.acked_before_kill = asked.acked
        self.server.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.server.process.wait)
        self.server_cm = None  # its process is gone; the next one gets the same port and data dir
        started = time.monotonic()
        await asyncio.to_thread(self._start_server, self.port)
        self.figures.restart_seconds = time.monotonic() - started
        self.up.set()

    # ------------------------------------------------------------------ questions

    def _new_question(self, n: int) -> Asked:
        kind = self.rng.choices([k for k, _ in self.plan.mix], [w for _, w in self.plan.mix])[0]
        text = self.rng.choice(self.bank)
        user = f"U{n:08d}"
        ts = f"1712{n:06d}.{self.rng.randrange(10**6):06d}"
        channel = {"slack-mention": f"C{n % 40:08d}", "slack-dm": f"D{n:08d}", "teams": f"a:stress-{n}"}[kind]
        asked = Asked(n, kind, text, user, channel, ts, f"Ev{n:010d}", f"act-{n}-{uuid.uuid4().hex[:8]}")
        self.asked.append(asked)
        self.by_key[asked.ledger_key] = asked
        return asked

    def _slack_body(self, asked: Asked) -> str:
        event: dict[str, Any] = {"user": asked.user, "ts": asked.ts, "channel": asked.channel, "event_ts": asked.ts}
        if asked.kind == "slack-mention":
            event.update(type="app_mention", text=f"<@{BOT_USER_ID}> {asked.text}")
        else:
            event.update(type="message", text=asked.text, channel_type="im")
        return json.dumps(event_callback(event, asked.event_id))

    def _companion_body(self, asked: Asked) -> str:
        """The `message.channels` event Slack sends with an `app_mention`, under its own event id."""
        event = {"type": "message", "user": asked.user, "ts": asked.ts, "channel": asked.channel, "channel_type": "channel",
                 "event_ts": asked.ts, "text": f"<@{BOT_USER_ID}> {asked.text}"}
        return json.dumps(event_callback(event, asked.event_id + "m"))

    def _teams_activity(self, asked: Asked, **fields: Any) -> dict[str, Any]:
        activity = {
            "type": "message",
            "id": asked.activity_id,
            "timestamp": "2026-01-01T12:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": f"29:{asked.user}", "name": "Dr Member", "aadObjectId": f"aad-{asked.user}"},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"id": asked.channel, "conversationType": "personal", "tenantId": "tenant-1"},
            "channelData": {"tenant": {"id": "tenant-1"}},
            "locale": "en-US",
            "text": asked.text,
            "textFormat": "plain",
        }
        activity.update(fields)
        return activity

    # ------------------------------------------------------------------ HTTP, as the platforms do it

    async def _post(self, session: aiohttp.ClientSession, path: str, body: bytes, headers: dict[str, str], acks: list[float]) -> int | None:
        """One delivery; the status, or None when the server could not be reached (killed)."""
        await self.up.wait()
        assert self.server is not None
        started = time.monotonic()
        try:
            async with session.post(self.server.url + path, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as response:
                await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return None
        acks.append(time.monotonic() - started)
        if status == 503 and retry_after:
            self.figures.busy_replies += 1
        elif status >= 500:
            self.figures.errors_5xx += 1
            self._example(self.figures.error_examples, f"{status} on {path}")
        return status

    async def _deliver(self, session: aiohttp.ClientSession, path: str, make: Any, acks: list[float], first_retry: int = 0) -> bool:
        """Deliver until acknowledged (2xx), re-delivering like the platform: True once acknowledged."""
        for attempt, delay in enumerate((0.0, *PLATFORM_RETRY_DELAYS)):
            if delay:
                self.figures.redeliveries_after_no_ack += 1
                await asyncio.sleep(delay)
            body, headers = make(first_retry + attempt)
            status = await self._post(session, path, body, headers, acks)
            if status is not None and 200 <= status < 300:
                return True
            if status is not None and 400 <= status < 500:
                return False
        return False

    def _slack_request(self, body: str) -> Any:
        def make(retry: int) -> tuple[bytes, dict[str, str]]:
            headers = {"Content-Type": "application/json", **sign(body)}
            if retry:
                headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_error" if retry > 1 else "http_timeout"})
            return body.encode(), headers

        return make

    def _teams_request(self, activity: dict[str, Any]) -> Any:
        raw = json.dumps(activity).encode()
        return lambda _retry: (raw, {"Content-Type": "application/json"})

    def _later(self, delay: float, work: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            await work

        task = asyncio.create_task(run())
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _ask(self, session: aiohttp.ClientSession, asked: Asked) -> None:
        faults = self.plan.faults
        if asked.platform == "slack":
            request = self._slack_request(self._slack_body(asked))
            asked.acked = await self._deliver(session, "/slack/events", request, self.figures.slack_acks)
            if self.rng.random() < faults.slack_retry:
                self.figures.slack_retries_sent += 1
                self._later(self.rng.uniform(0, 1.5), self._deliver(session, "/slack/events", request, self.figures.slack_acks, first_retry=1))
            if asked.kind == "slack-mention" and self.rng.random() < faults.mention_with_message_event:
                self.figures.companion_message_events += 1
                companion = self._slack_request(self._companion_body(asked))
                self._later(self.rng.uniform(0, 0.2), self._deliver(session, "/slack/events", companion, self.figures.slack_acks))
        else:
            request = self._teams_request(self._teams_activity(asked))
            asked.acked = await self._deliver(session, "/api/messages", request, self.figures.teams_acks)
            asked.turn_done = asked.acked
            if self.rng.random() < faults.teams_resend:
                self.figures.teams_resends_sent += 1
                self._later(self.rng.uniform(0, 1.5), self._deliver(session, "/api/messages", request, self.figures.teams_acks))

    # ------------------------------------------------------------------ what came back

    def _scan(self) -> None:
        calls = self.slack.calls
        while self._slack_seen < len(calls):
            call = calls[self._slack_seen]
            self._slack_seen += 1
            if call.method not in ("chat.postMessage", "chat.postEphemeral") or not call.ok:
                continue
            asked = self.by_key.get((str(call.body.get("channel")), call.body.get("thread_ts") or None))
            failure = FAILURE_TEXT in str(call.body.get("text", ""))
            if asked is not None and (failure or call.method == "chat.postMessage"):
                self._record(asked, call.body, failure)
        sent = self.connector.sent
        while self._teams_seen < len(sent):
            item = sent[self._teams_seen]
            self._teams_seen += 1
            if item.is_update:
                continue
            asked = self.by_key.get(("teams", item.conversation_id))
            if asked is not None:
                self._record(asked, {**item.body, "_id": item.id}, False)

    def _record(self, asked: Asked, body: dict[str, Any], failure: bool) -> None:
        if failure:
            asked.failures += 1
        else:
            asked.answers.append({**body, "_at": time.monotonic()})
        asked.answered.set()

    async def _watch(self) -> None:
        while True:
            self._scan()
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ feedback

    async def _feedback(self, session: aiohttp.ClientSession, asked: Asked) -> None:
        if not asked.answers:
            return
        answer = asked.answers[0]
        verdict = self.rng.choice(("up", "down"))
        if asked.platform == "slack":
            value = _find_value(answer.get("blocks") or [], f"{verdict}:")
            if value is None:
                return
            answer_id: str | None = value.split(":", 1)[1]
            payload = {
                "type": "block_actions",
                "user": {"id": asked.user, "username": "member", "team_id": TEAM_ID},
                "api_app_id": "A0000001",
                "token": "legacy-unused",
                "container": {"type": "message", "channel_id": asked.channel, "is_ephemeral": False, "message_ts": "1712000000.000001"},
                "trigger_id": uuid.uuid4().hex,
                "team": {"id": TEAM_ID, "domain": "guide"},
                "channel": {"id": asked.channel, "name": "general"},
                "response_url": self.slack.response_url(),
                "message": {"ts": "1712000000.000001", "text": answer.get("text", ""), "blocks": answer.get("blocks") or []},
                "actions": [{"action_id": f"guide_feedback_{verdict}", "type": "button", "value": value, "action_ts": "1712000000.1"}],
            }
            body = urlencode({"payload": json.dumps(payload)})
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
            status = await self._post(session, "/slack/events", body.encode(), headers, self.figures.slack_acks)
            member = ("slack", asked.user)
        else:
            answer_id = ((answer.get("channelData") or {}).get("guidebot") or {}).get("answerId")
            if not answer_id or not asked.turn_done:
                return
            reaction = "like" if verdict == "up" else "dislike"
            activity = self._teams_activity(
                asked,
                type="invoke",
                id=f"{asked.activity_id}-fb",
                name="message/submitAction",
                replyToId=answer["_id"],
                value={"actionName": "feedback", "actionValue": {"reaction": reaction}},
            )
            activity.pop("text"), activity.pop("textFormat")
            status = await self._post(session, "/api/messages", json.dumps(activity).encode(), {"Content-Type": "application/json"}, self.figures.teams_acks)
            member = ("teams", f"aad-{asked.user}")
        if status == 200:
            self.figures.feedback_acknowledged += 1
            self.feedback_expected.append((asked, member, f"{asked.platform} question {asked.n}"))
        else:
            self.figures.feedback_not_acknowledged += 1

    # ------------------------------------------------------------------ hostile senders

    def _hostile_requests(self, n: int) -> list[tuple[str, str, bytes, dict[str, str], frozenset[int]]]:
        """(kind, path, body, headers, statuses that are right) for the n-th round of a hostile sender."""
        huge = "a." * 50_000 + " MRN 12345678 what does a VPMA do?"
        deep = "[" * 5_000 + "]" * 5_000
        json_type = {"Content-Type": "application/json"}
        ok, refused, forbidden = frozenset({200}), frozenset({400}), frozenset({403})

        def activity(**fields: Any) -> dict[str, Any]:
            asked = Asked(-n, "teams", "What does a VPMA do?", f"UH{n:07d}", f"a:hostile-{n}-{uuid.uuid4().hex[:6]}", "", "", f"hostile-{n}-{uuid.uuid4().hex[:8]}")
            return self._teams_activity(asked, **fields)

        def slack(text: str) -> tuple[bytes, dict[str, str]]:
            event = {"type": "message", "channel_type": "im", "user": f"UH{n:07d}", "text": text, "ts": f"1800{n:06d}.000001",
                     "channel": f"DH{n:08d}", "event_ts": "1"}
            body = json.dumps(event_callback(event, f"EvHostile{n:08d}"))
            return body.encode(), {**json_type, **sign(body)}

        attacker = self.relay_target.url
        host, port = attacker.split("//", 1)[1].rstrip("/").rsplit(":", 1)
        slack_huge, slack_huge_headers = slack(huge)
        return [
            ("huge Teams question", "/api/messages", json.dumps(activity(text=huge)).encode(), json_type, ok),
            ("huge Slack question", "/slack/events", slack_huge, slack_huge_headers, ok),
            ("huge console question", "/api/ask", json.dumps({"question": huge[:60_000]}).encode(), json_type, ok),
            ("deep JSON", "/api/ask", ('{"question": %s}' % deep).encode(), json_type, refused),
            ("deep JSON", "/api/messages", ('{"type": "message", "x": %s}' % deep).encode(), json_type, refused),
            ("deep JSON", "/slack/events", deep.encode(), {**json_type, **sign(deep)}, refused),
            ("lone surrogate", "/api/ask", b'{"question": "what does a VPMA do \\ud800"}', json_type, refused),
            ("relay: foreign serviceUrl", "/api/messages", json.dumps(activity(serviceUrl="http://203.0.113.9:9/")).encode(), json_type, refused),
            ("relay: credentials in serviceUrl", "/api/messages",
             json.dumps(activity(serviceUrl=f"http://relay:secret@{host}:{port}/")).encode(), json_type, refused),
            ("relay: rebound Host", "/api/messages", json.dumps(activity(serviceUrl=attacker)).encode(),
             {**json_type, "Host": "relay.example.org"}, forbidden),
        ]

    async def _hostile(self, session: aiohttp.ClientSession, sender: int) -> None:
        """Send the hostile requests in turn until the members are done; count any answered wrongly."""
        n = sender * 1_000_000
        while not self._hostile_stop.is_set() and time.monotonic() < self.deadline:
            for kind, path, body, headers, right in self._hostile_requests(n):
                if self._hostile_stop.is_set():
                    return
                n += 1
                await self.up.wait()
                assert self.server is not None
                try:
                    async with session.post(self.server.url + path, data=body, headers=headers,
                                            timeout=aiohttp.ClientTimeout(total=30)) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    continue  # the server was killed meanwhile
                self.hostile_sent[kind] += 1
                busy = status == 503 and path in ("/api/messages", "/slack/events")  # a lease refused during the restart
                if status not in right and not busy:
                    self.figures.hostile_unexpected += 1
                    self._example(self.figures.hostile_examples, f"{kind} on {path}: {status}")
                await asyncio.sleep(self.plan.hostile_interval)

    # ------------------------------------------------------------------ members

    async def _member(self, session: aiohttp.ClientSession) -> None:
        while time.monotonic() < self.deadline:
            n = next(self._next)
            if n >= self.plan.questions:
                return
            asked = self._new_question(n)
            await self._ask(session, asked)
            try:
                await asyncio.wait_for(asked.answered.wait(), timeout=max(0.1, min(self.plan.answer_timeout, self.deadline - time.monotonic())))
            except asyncio.TimeoutError:
                continue
            if self.rng.random() < self.plan.feedback_rate:
                await self._feedback(session, asked)

    async def _killer(self) -> None:
        if self.plan.kill_at is None:
            return
        threshold = int(self.plan.questions * self.plan.kill_at)
        while len(self.asked) < threshold:
            await asyncio.sleep(0.05)
        await self._kill_and_restart()

    # ------------------------------------------------------------------ the whole run

    async def run(self) -> Figures:
        started = time.monotonic()
        self.deadline = started + self.plan.time_limit
        await self.slack.start()
        await self.connector.start()
        await self.relay_target.start()
        watcher = asyncio.create_task(self._watch())
        try:
            server = await asyncio.to_thread(self._start_server, None)
            self.port = server.port
            self.up.set()
            connector = aiohttp.TCPConnector(limit=self.plan.concurrency * 3)
            async with aiohttp.ClientSession(connector=connector) as session:
                killer = asyncio.create_task(self._killer())
                hostile = [asyncio.create_task(self._hostile(session, i)) for i in range(self.plan.hostile_senders)]
                await asyncio.gather(*(self._member(session) for _ in range(self.plan.concurrency)))
                self._hostile_stop.set()
                await asyncio.gather(*hostile)
                await killer
                if self._side_tasks:
                    await asyncio.gather(*list(self._side_tasks), return_exceptions=True)
                await self._drain()
            self.figures.timed_out = time.monotonic() >= self.deadline
            await asyncio.to_thread(self._stop_server)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if self.server_cm is not None:
                await asyncio.to_thread(self._stop_server)
            await self.slack.close()
            await self.connector.close()
            await self.relay_target.close()
        self._scan()
        self.figures.hostile_sent = dict(self.hostile_sent)
        self.figures.relayed = self.relay_target.attempts
        self.figures.seconds = time.monotonic() - started
        self._count()
        return self.figures

    async def _drain(self, quiet_seconds: float = 3.0) -> None:
        """Wait for late answers (recovered work, slow retries) until none is missing or nothing moves."""
        last_change, last_seen = time.monotonic(), (-1, -1)
        limit = time.monotonic() + self.plan.answer_timeout
        while time.monotonic() < min(limit, self.deadline):
            self._scan()
            seen = (len(self.slack.calls), len(self.connector.sent))
            if seen != last_seen:
                last_change, last_seen = time.monotonic(), seen
            missing = any(not a.answered.is_set() for a in self.asked)
            if time.monotonic() - last_change > (quiet_seconds if not missing else self.plan.work_lease_seconds * 3 + 5):
                return
            await asyncio.sleep(0.1)

    def _count(self) -> None:
        figures = self.figures
        figures.questions = len(self.asked)
        for asked in self.asked:
            delivered = len(asked.answers) + asked.failures
            figures.answers_delivered += len(asked.answers)
            figures.failure_notices += asked.failures
            if delivered == 0:
                figures.lost += 1
                self._example(figures.lost_examples, f"{asked.kind} #{asked.n} (acked={asked.acked}, acked before kill={asked.acked_before_kill})")
            elif len(asked.answers) > 1:
                figures.duplicates += 1
                times = ", ".join(self._since_kill(a["_at"]) for a in asked.answers)
                if self._straddles_kill(asked):
                    figures.crash_redeliveries += 1
                    self._example(figures.crash_examples, f"{asked.kind} #{asked.n} ({times})")
                else:
                    self._example(figures.duplicate_examples, f"{asked.kind} #{asked.n}: {len(asked.answers)} answers ({times})")
        figures.faults_injected = dict(_injected(self.slack.random_failures) + _injected(self.connector.random_failures))
        self._check_logs()
        self._check_feedback()

    def _straddles_kill(self, asked: Asked) -> bool:
        """Two answers, the first seen before the kill and the second after it."""
        if self.killed_at is None or len(asked.answers) != 2:
            return False
        first, second = (a["_at"] for a in asked.answers)
        return first <= self.killed_at + 0.1 and second > self.killed_at

    def _since_kill(self, at: float) -> str:
        return f"{at - self.killed_at:+.1f} s from the kill" if self.killed_at is not None else f"at {at - self.deadline + self.plan.time_limit:.1f} s"

    @staticmethod
    def _example(examples: list[str], text: str, keep: int = 8) -> None:
        if len(examples) < keep:
            examples.append(text)

    def _check_logs(self) -> None:
        path = self.workdir / "server.log"
        if not path.exists():
            return
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                if "Traceback" in line:
                    self.figures.unhandled_errors += 1
                    self._example(self.figures.error_examples, line[:200])
                continue
            if not isinstance(record, dict) or record.get("level") not in ("ERROR", "CRITICAL"):
                continue
            message = str(record.get("message", ""))
            if record.get("exc_info") or any(m in message for m in UNHANDLED_MESSAGES):
                self.figures.unhandled_errors += 1
                self._example(self.figures.error_examples, f"{record.get('logger')}: {message[:160]}")
            else:
                self.figures.logged_delivery_failures += 1

    def _check_feedback(self) -> None:
        url = self.plan.database_url or f"sqlite:///{self.workdir / 'data' / 'guidebot.sqlite3'}"
        store = SqlStore(url)
        try:
            stored = {(f.answer_id, f.user_hash) for f in store.feedback()}
            expected = [(asked, store.member_hash(*member), what) for asked, member, what in self.feedback_expected]
        finally:
            store.close()
        unattributed = Counter(user_hash for answer_id, user_hash in stored if answer_id.startswith(UNATTRIBUTED_PREFIX))
        for asked, user_hash, what in expected:
            # Normally one answer; after a crash re-delivery, the vote may land on either copy.
            if any((answer_id, user_hash) in stored for answer_id in _answer_ids(asked)):
                continue
            if unattributed[user_hash] > 0:
                unattributed[user_hash] -= 1
                self.figures.feedback_unattributed += 1
                self._example(self.figures.crash_examples, f"feedback on {what} stored unattributed")
            else:
                self.figures.feedback_missing += 1
                self._example(self.figures.lost_examples, f"feedback on {what} acknowledged but not stored")


def _answer_ids(asked: Asked) -> set[str]:
    ids = set()
    for answer in asked.answers:
        value = _find_value(answer.get("blocks") or [], "up:")
        if value is not None:
            ids.add(value.split(":", 1)[1])
        teams_id = ((answer.get("channelData") or {}).get("guidebot") or {}).get("answerId")
        if teams_id:
            ids.add(teams_id)
    return ids


def _find_value(node: Any, prefix: str) -> str | None:
    """The first `value` in a Block Kit tree that starts with `prefix` (the feedback buttons)."""
    if isinstance(node, dict):
        value = node.get("value")
        if isinstance(value, str) and value.startswith(prefix):
            return value
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_value(child, prefix)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------------------------- databases and data dirs


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL at `url`, dropped afterwards; yields a URL that uses it."""
    import psycopg
    from sqlalchemy.engine import make_url

    from bot.store import normalize_database_url

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"guidebot_stress_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(normalize_database_url(url)).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def prepare_data_dir(workdir: Path, source: Path | None = None, refresh: bool = True) -> Path:
    """A fresh data dir with a copy of the built index; `refresh` runs `guidebot index` on it
    (a no-op when the copy is current; a rebuild when the documents or the model changed)."""
    source = source or Settings().data_dir
    data = workdir / "data"
    if (source / "index").exists():
        seed_index(source, data)
    else:
        data.mkdir(parents=True)
    if refresh:
        subprocess.run(
            [str(GUIDEBOT), "index"], cwd=workdir, env=server_env(data), check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    return data


async def run_stress(plan: StressPlan, workdir: Path | None = None, index_source: Path | None = None) -> Figures:
    """Run `plan`; `index_source` is a data dir whose index is current (else `guidebot index` checks the copy)."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="guidebot-stress-")))
        await asyncio.to_thread(prepare_data_dir, workdir, index_source, index_source is None)
        if plan.database_url:
            plan = _replace(plan, database_url=stack.enter_context(postgres_schema(plan.database_url)))
        return await StressRun(plan, workdir).run()


def _replace(plan: StressPlan, **changes: Any) -> StressPlan:
    from dataclasses import replace

    return replace(plan, **changes)


# --------------------------------------------------------------------------------------------- the report


def rows(figures: Figures, plan: StressPlan) -> list[tuple[str, str]]:
    kill = (
        f"SIGKILL after {int(plan.questions * (plan.kill_at or 0)):,} questions, {figures.in_flight_at_kill} in flight; "
        f"back in {figures.restart_seconds:.1f} s" if figures.killed else "none"
    )
    faults = ", ".join(f"{name}: {count:,}" for name, count in sorted(figures.faults_injected.items())) or "none"
    return [
        ("questions sent", f"{figures.questions:,}"),
        ("answers delivered", f"{figures.answers_delivered:,}"),
        ("failure notices (delivery failed after retries; member told)", f"{figures.failure_notices:,}"),
        ("duplicates", f"{figures.duplicates - figures.crash_redeliveries:,}"),
        ("answers sent again after the SIGKILL (reached the platform in its last instant, unrecorded)", f"{figures.crash_redeliveries:,}"),
        ("lost", f"{figures.lost:,}"),
        ("errors: 5xx from guidebot", f"{figures.errors_5xx:,}"),
        ("errors: unhandled exceptions in the log", f"{figures.unhandled_errors:,}"),
        ("delivery failures logged (handled)", f"{figures.logged_delivery_failures:,}"),
        ("Slack ack p50 / p99 / max", _acks(figures.slack_acks)),
        ("Teams ack p50 / p99 / max", _acks(figures.teams_acks)),
        ("acks over 3 s", f"{figures.acks_over_limit:,}"),
        ("feedback acknowledged / missing after restart", f"{figures.feedback_acknowledged:,} / {figures.feedback_missing:,}"),
        ("feedback stored but unattributed (its reply's link lost to the kill)", f"{figures.feedback_unattributed:,}"),
        ("Slack retries / companion message events / Teams resends", f"{figures.slack_retries_sent:,} / {figures.companion_message_events:,} / {figures.teams_resends_sent:,}"),
        ("re-deliveries of unacknowledged requests", f"{figures.redeliveries_after_no_ack:,}"),
        ("\"busy, retry later\" replies (503 + Retry-After)", f"{figures.busy_replies:,}"),
        ("faults injected", faults),
        ("hostile requests (huge and pathological texts, deep JSON, surrogates, relay attempts)",
         f"{sum(figures.hostile_sent.values()):,}, {figures.hostile_unexpected:,} answered wrongly, {figures.relayed:,} relayed"),
        ("crash", kill),
        ("store", figures.backend),
        ("wall time", f"{figures.seconds:.0f} s ({figures.questions / max(figures.seconds, 1e-9):.1f} questions/s)"),
        ("result", "PASS" if figures.passed else "FAIL: " + "; ".join(figures.failures_text())),
    ]


def _acks(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 0.5) * 1000:.0f} / {percentile(values, 0.99) * 1000:.0f} / {max(values) * 1000:.0f} ms"
