"""Hostile input at `POST /slack/events`: whatever arrives, a clear 4xx or a normal answer, never a 500.

Hypothesis sends random JSON, Slack-shaped JSON with wrong types, form bodies
with random `payload`s, random bytes and content types; signed (as if Slack
had gone mad) and unsigned. The app runs on 127.0.0.1 in a thread of its own
with the fake Slack, so the property tests stay plain synchronous functions.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidebot_testing.slack import BOT_USER_ID, FakeSlack, SlackEnv, next_ts, sign, slack_settings, start_env, stop_env

OK_STATUSES = {200, 400, 401, 404, 413}
TRIED: Counter[str] = Counter()


def slack_errors() -> float:
    from bot.metrics import REGISTRY

    return REGISTRY.get_sample_value("guidebot_errors_total", {"component": "slack"}) or 0.0


class Running:
    """The Slack adapter and the fake Slack on an event loop in a background thread."""

    def __init__(self, guide_settings: Any, embedder: Any, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.env: SlackEnv = self.run(self._start(guide_settings, embedder, tmp_path))
        self.url = str(self.env.client.make_url("/slack/events"))
        self.errors_before = slack_errors()

    async def _start(self, guide_settings: Any, embedder: Any, tmp_path: Path) -> SlackEnv:
        fake = await FakeSlack().start()
        return await start_env(slack_settings(guide_settings, tmp_path, fake), embedder, fake)

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def post(self, body: bytes, content_type: str, signed: bool) -> int:
        headers = {"Content-Type": content_type, **(sign(body) if signed else {})}
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def close(self) -> None:
        self.run(self.env.adapter.background.idle(30))
        self.run(stop_env(self.env))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def running(guide_settings: Any, guide_index: Any, embedder: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    server = Running(guide_settings, embedder, tmp_path_factory.mktemp("slack-hostile"))
    yield server
    server.close()
    print("\nhostile Slack requests tried:", dict(TRIED))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
SLACK_KEYS = ["type", "token", "team_id", "api_app_id", "event_id", "event", "actions", "user", "team", "channel", "container",
              "message", "response_url", "trigger_id", "command", "text", "authorizations", "view", "enterprise", "payload"]
EVENT_TYPES = ["message", "app_mention", "assistant_thread_started", "assistant_thread_context_changed", "reaction_added", "app_home_opened"]


def event_like() -> st.SearchStrategy[dict[str, Any]]:
    fields = {"type": st.sampled_from(EVENT_TYPES) | JSON, "channel": st.just("C0HOSTILE") | JSON, "user": st.just("U0HOSTILE") | JSON,
              "ts": st.builds(next_ts) | JSON, "thread_ts": JSON, "text": st.text(max_size=60) | JSON, "subtype": JSON,
              "channel_type": st.sampled_from(["im", "channel"]) | JSON, "bot_id": JSON, "assistant_thread": JSON, "message": JSON}
    return st.fixed_dictionaries({"type": fields.pop("type")}, optional=fields)


def slack_like() -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, Any] = {key: JSON for key in SLACK_KEYS}
    optional["type"] = st.sampled_from(["event_callback", "block_actions", "url_verification", "view_submission", "shortcut"]) | JSON
    optional["event"] = event_like() | JSON
    optional["actions"] = st.lists(st.fixed_dictionaries({}, optional={"action_id": st.sampled_from(["guide_feedback", "guide_share", "x"]) | JSON, "value": JSON | st.just("up:abc")}), max_size=2) | JSON
    optional["text"] = st.just(f"<@{BOT_USER_ID}> role vpma") | JSON
    return st.fixed_dictionaries({}, optional=optional)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(value=JSON | slack_like(), signed=st.booleans())
def test_any_json_body_gets_a_4xx_or_an_answer_never_a_500(running: Running, value: Any, signed: bool) -> None:
    status = running.post(json.dumps(value).encode(), "application/json", signed)
    TRIED[f"json {'signed' if signed else 'unsigned'} → {status}"] += 1
    assert status in OK_STATUSES
    if not signed:
        assert status == 401


WORDS = st.text(max_size=80) | st.sampled_from(["<!channel> what does a VPMA do?", f"<@{BOT_USER_ID}> role vpma", "my patient John Smith MRN 1234567", "and the MHA?", "&lt;script&gt;", ""])


@st.composite
def well_formed_events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["message", "app_mention", "assistant_thread_started"]))
    if kind == "assistant_thread_started":
        event: dict[str, Any] = {"type": kind, "assistant_thread": {"user_id": "U0HOSTILE", "channel_id": "D0HOSTILE", "thread_ts": next_ts(), "context": {}}}
    else:
        event = {"type": kind, "user": draw(st.sampled_from(["U0HOSTILE", BOT_USER_ID])), "text": draw(WORDS), "ts": next_ts(),
                 "channel": draw(st.sampled_from(["C0HOSTILE", "D0HOSTILE"])), "channel_type": draw(st.sampled_from(["im", "channel", "group", "mpim"]))}
        event |= draw(st.fixed_dictionaries({}, optional={"thread_ts": st.builds(next_ts), "subtype": st.sampled_from(["bot_message", "message_changed", "thread_broadcast", "file_share"]), "bot_id": st.just("B0OTHER")}))
    return {"type": "event_callback", "team_id": "T0000001", "api_app_id": "A0000001", "event_id": f"EvH{draw(st.integers(0, 10**9))}", "event": event}


@FUZZ
@given(value=well_formed_events())
def test_any_well_formed_event_is_acknowledged(running: Running, value: dict[str, Any]) -> None:
    status = running.post(json.dumps(value).encode(), "application/json", signed=True)
    TRIED[f"event {value['event']['type']} → {status}"] += 1
    assert status == 200


@FUZZ
@given(value=JSON | slack_like(), form=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3), signed=st.booleans())
def test_any_form_body_gets_a_4xx_or_an_answer_never_a_500(running: Running, value: Any, form: dict[str, str], signed: bool) -> None:
    body = urllib.parse.urlencode({**form, "payload": json.dumps(value)}).encode()
    status = running.post(body, "application/x-www-form-urlencoded", signed)
    TRIED[f"form {'signed' if signed else 'unsigned'} → {status}"] += 1
    assert status in OK_STATUSES


@FUZZ
@given(body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", "image/png", ""]), signed=st.booleans())
def test_any_bytes_get_a_4xx_or_an_answer_never_a_500(running: Running, body: bytes, content_type: str, signed: bool) -> None:
    status = running.post(body, content_type, signed)
    TRIED[f"bytes {'signed' if signed else 'unsigned'} → {status}"] += 1
    assert status in OK_STATUSES


def test_a_huge_body_is_refused_with_413(running: Running) -> None:
    assert running.post(b"{" + b" " * (3 * 1024 * 1024) + b"}", "application/json", signed=True) == 413


def test_the_fuzzing_left_the_adapter_healthy(running: Running) -> None:
    """After all of that, a real question still gets its answer."""
    from guidebot_testing.slack import event_callback, mention

    event = mention("What does a VPMA do?", channel="C0AFTER01")
    assert running.post(json.dumps(event_callback(event)).encode(), "application/json", signed=True) == 200
    deadline = time.monotonic() + 20
    while not [c for c in running.env.fake.sent("chat.postMessage") if c.body.get("channel") == "C0AFTER01"]:
        assert time.monotonic() < deadline, "no answer after the fuzzing"
        time.sleep(0.05)
    assert running.run(running.env.adapter.background.idle(30))
    assert slack_errors() == running.errors_before, "no listener or delivery failed along the way"
