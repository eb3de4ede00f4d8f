"""What one client may do to the server: nothing that costs other members their answers.

Malformed input is a 4xx and never a traceback (deep JSON, lone surrogates, a
bad Slack timestamp, a client hanging up mid-body); slow bodies time out; the
JSON API is rate-limited per session and per address; a vote counts only on an
answer the voting session received; no response names the server's software.
The app runs in-process with all its adapters (Slack and Teams configured, so
they parse what they are sent before authenticating it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.console import SESSION_COOKIE
from bot.server import GUIDEBOT_KEY, create_app
from bot.settings import PROJECT_ROOT, Settings
from bot.wiring import build_guidebot
from guidebot_testing.slack import SIGNING_SECRET, event_callback, sign

DEEP = "[" * 5_000 + "]" * 5_000
JSON_ENDPOINTS = ("/api/ask", "/api/feedback", "/slack/events", "/api/messages")


PLATFORMS = {
    "SLACK_BOT_TOKEN": "xoxb-hardening",
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
    "MICROSOFT_APP_ID": "6f1b2c3d-0000-4000-8000-000000000001",
    "MICROSOFT_APP_PASSWORD": "not-a-real-secret",
}
"""Slack and Teams configured as in production: each adapter reads its own settings from these when mounted."""


@pytest.fixture(autouse=True)
def _platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PLATFORMS.items():
        monkeypatch.setenv(name, value)


def _settings(data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {"knowledge_dir": PROJECT_ROOT / "knowledge", "data_dir": data_dir}
    values.update(extra)
    return Settings(**values)


async def _client(settings: Settings, embedder: Any) -> TestClient:
    guidebot = build_guidebot(settings, embedder)
    # No cookie jar: each request carries exactly the session cookie a test gives it.
    client = TestClient(TestServer(create_app(settings, guidebot), host="127.0.0.1"), cookie_jar=DummyCookieJar())
    await client.start_server()
    return client


@pytest.fixture()
async def client(indexed_data_dir: Path, embedder: Any) -> AsyncIterator[TestClient]:
    test_client = await _client(_settings(indexed_data_dir), embedder)
    yield test_client
    await test_client.close()


async def _raw(client: TestClient, request: bytes, then: bytes = b"", pause: float = 0.0, close: bool = False) -> bytes:
    """Send bytes as they are (headers, part of a body …) and return what the server answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(request)
    await writer.drain()
    if pause:
        await asyncio.sleep(pause)
    if then:
        writer.write(then)
        await writer.drain()
    if close:
        writer.close()
        return b""
    try:
        return await asyncio.wait_for(reader.read(65536), timeout=10)
    finally:
        writer.close()


def _errors(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.levelno >= logging.ERROR or r.exc_info]


# --- malformed input is a 4xx ------------------------------------------------------------


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
async def test_json_nested_thousands_deep_is_a_400_on_every_json_endpoint(
    client: TestClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = '{"question": %s, "type": "message", "x": %s}' % (DEEP, DEEP) if path.startswith("/api/") else DEEP
    headers = {"Content-Type": "application/json", **(sign(body) if path == "/slack/events" else {})}

    response = await client.post(path, data=body.encode(), headers=headers)

    assert response.status == 400, await response.text()
    assert not _errors(caplog.records)


async def test_a_slack_timestamp_that_is_not_a_number_is_a_401(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(event_callback({"type": "app_mention", "user": "U1", "ts": "1.2", "channel": "C1", "text": "hi"}))
    headers = {"Content-Type": "application/json", **sign(body), "X-Slack-Request-Timestamp": "abc"}

    response = await client.post("/slack/events", data=body.encode(), headers=headers)

    assert response.status == 401
    assert not _errors(caplog.records)


async def test_a_lone_surrogate_is_a_400_not_a_503(client: TestClient) -> None:
    question = await client.post("/api/ask", data=b'{"question": "what does a VPMA do \\ud800"}', headers={"Content-Type": "application/json"})
    comment = await client.post(
        "/api/feedback", data=b'{"answer_id": "abc", "value": "up", "comment": "\\udfff"}', headers={"Content-Type": "application/json"}
    )

    assert question.status == 400 and (await question.json())["error"] == "invalid_text"
    assert comment.status == 400


async def test_a_client_hanging_up_mid_body_is_logged_as_499_without_a_traceback(
    indexed_data_dir: Path, embedder: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="guidebot.server")
    settings = _settings(indexed_data_dir)
    # As `guidebot serve` runs it (web.run_app: handlers are not cancelled when the client goes), not as TestServer does.
    runner = web.AppRunner(create_app(settings, build_guidebot(settings, embedder)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b'{"question": "what')
        await writer.drain()
        writer.close()
        await asyncio.sleep(0.5)
    finally:
        await runner.cleanup()

    statuses = [getattr(r, "status", None) for r in caplog.records if r.getMessage() == "request"]
    assert 499 in statuses and 500 not in statuses
    assert not _errors(caplog.records)


# --- slow bodies ------------------------------------------------------------------------


async def test_a_body_sent_too_slowly_gets_408(indexed_data_dir: Path, embedder: Any) -> None:
    client = await _client(_settings(indexed_data_dir, body_timeout_seconds=0.5), embedder)
    try:
        head = b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        started = time.monotonic()
        answer = await _raw(client, head)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < 3
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()


# --- the Server header ---------------------------------------------------------------------


async def test_no_response_names_the_server_software_or_its_version(client: TestClient) -> None:
    for response in (await client.get("/healthz"), await client.get("/docs/nope"), await client.post("/api/ask", data=b"x")):
        server = response.headers.get("Server", "")
        assert "aiohttp" not in server.lower() and "python" not in server.lower(), server


# --- rate limits ---------------------------------------------------------------------------


async def test_one_session_past_its_limit_gets_429_with_retry_after_and_others_still_ask(indexed_data_dir: Path, embedder: Any) -> None:
    client = await _client(_settings(indexed_data_dir, rate_limit_per_session=3, rate_limit_per_address=100), embedder)
    try:
        first = await client.post("/api/ask", json={"question": ""})
        session = first.cookies[SESSION_COOKIE].value
        cookie = {"Cookie": f"{SESSION_COOKIE}={session}"}
        statuses = [first.status] + [(await client.post("/api/ask", json={"question": ""}, headers=cookie)).status for _ in range(4)]
        limited = await client.post("/api/feedback", json={"answer_id": "abc", "value": "up"}, headers=cookie)
        other = await client.post("/api/ask", json={"question": ""})

        assert statuses == [200, 200, 200, 200, 429]  # the cookie-less first request counts for its address only
        assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
        assert (await limited.json())["error"] == "too_many_requests"
        assert other.status == 200
    finally:
        await client.close()


async def test_one_address_past_its_limit_gets_429_whatever_session_it_claims(indexed_data_dir: Path, embedder: Any) -> None:
    client = await _client(_settings(indexed_data_dir, rate_limit_per_session=100, rate_limit_per_address=3), embedder)
    try:
        statuses = [(await client.post("/api/ask", json={"question": ""})).status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()


async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(indexed_data_dir: Path, embedder: Any) -> None:
    client = await _client(_settings(indexed_data_dir, rate_limit_per_address=2, trusted_proxies="127.0.0.0/8"), embedder)
    try:
        for n in range(4):  # four clients behind the one proxy: each within its limit
            response = await client.post("/api/ask", json={"question": ""}, headers={"X-Forwarded-For": f"203.0.113.{n}"})
            assert response.status == 200
        spoofed = [
            (await client.post("/api/ask", json={"question": ""}, headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.1"})).status
            for _ in range(3)
        ]
        assert spoofed == [200, 200, 429]  # the proxy's own entry (the last) is what counts
    finally:
        await client.close()


# --- votes ---------------------------------------------------------------------------------


async def test_a_vote_counts_only_on_an_answer_this_session_received(client: TestClient) -> None:
    asked = await client.post("/api/ask", json={"question": "What does a VPMA do?"})
    answer_id = (await asked.json())["answer_id"]
    mine = {"Cookie": f"{SESSION_COOKIE}={asked.cookies[SESSION_COOKIE].value}"}
    theirs = {"Cookie": f"{SESSION_COOKIE}={'x' * 24}"}

    made_up = await client.post("/api/feedback", json={"answer_id": "never-given-1", "value": "up"}, headers=mine)
    other = await client.post("/api/feedback", json={"answer_id": answer_id, "value": "up"}, headers=theirs)
    own = await client.post("/api/feedback", json={"answer_id": answer_id, "value": "down"}, headers=mine)

    assert made_up.status == 404 and other.status == 404
    assert own.status == 200
    assert [v.value for v in client.server.app[GUIDEBOT_KEY].store.feedback_for(answer_id)] == ["down"]
