"""Two `guidebot serve` replicas on one PostgreSQL: a Slack retry that lands on the other replica is not answered twice.

Slack resends an event it thinks was not acknowledged (`X-Slack-Retry-Num`),
and behind a load balancer the resend can reach a different replica. The
replicas share nothing but the database, so the event-id claim in the state
store is what keeps the answer single. Needs PostgreSQL on 127.0.0.1:5432
(trust auth, database `test`; see tests/conftest_store.py): skipped with the
reason when it is not there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from guidebot_testing.servers import serve
from guidebot_testing.slack import PUBLIC_URL, SIGNING_SECRET, FakeSlack, event_callback, mention, sign
from tests.conftest_store import postgres_schema_url  # noqa: F401  (a fixture)


@pytest.fixture
def hashing_data_dir(hashing_settings: Any) -> Path:
    """The guide indexed with the instant hashing embedder: replicas start in seconds, not a model load each."""
    from bot.indexing import build_index
    from bot.embedding import load_embedder

    build_index(hashing_settings, load_embedder(hashing_settings))
    return hashing_settings.data_dir


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.close()


def _start(env: dict[str, str], data_dir: Path) -> tuple[Any, Any]:
    context = serve(env, data_dir=data_dir)
    return context, context.__enter__()


async def test_a_retry_landing_on_the_other_replica_gets_no_second_answer(
    hashing_settings: Any, hashing_data_dir: Path, postgres_schema_url: str, fake: FakeSlack  # noqa: F811
) -> None:
    env = {
        "GUIDEBOT_MODEL": hashing_settings.model,
        "GUIDEBOT_KNOWLEDGE_DIR": str(hashing_settings.knowledge_dir),
        "GUIDEBOT_DATABASE_URL": postgres_schema_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "GUIDEBOT_PUBLIC_URL": PUBLIC_URL,
    }
    started = await asyncio.gather(*(asyncio.to_thread(_start, env, hashing_data_dir) for _ in range(2)), return_exceptions=True)
    contexts = [s[0] for s in started if not isinstance(s, BaseException)]
    try:
        for result in started:
            if isinstance(result, BaseException):
                raise result
        (_, first), (_, second) = started  # type: ignore[misc]
        event = mention("What does a VPMA do?", channel="C0GENERAL")
        body = json.dumps(event_callback(event, event_id="EvREPLICA01"))

        async with aiohttp.ClientSession() as session:

            async def deliver(server: Any, retry: int | None) -> int:
                headers = {"Content-Type": "application/json", **sign(body)}
                if retry:
                    headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
                async with session.post(f"{server.url}/slack/events", data=body, headers=headers) as response:
                    return response.status

            # The original on one replica, Slack's retry on the other, at the same moment; then a late replay.
            assert await asyncio.gather(deliver(first, None), deliver(second, 1)) == [200, 200]
            [post] = await fake.wait_sent("chat.postMessage", timeout=60)
            assert post.body["thread_ts"] == event["ts"] and post.body["blocks"]

            def stood_down() -> int:
                """Replicas log "… already handled" / "… already answered" (never the text) when they stand down."""
                return sum(line.count("already ") for line in (first.logs() + second.logs()).splitlines() if "adapters.slack" in line)

            async def wait_stood_down(times: int, what: str) -> None:
                try:
                    await fake.wait_for(lambda: stood_down() >= times, timeout=30, what=what)
                except AssertionError as error:
                    raise AssertionError(f"{error}\n--- first:\n{first.logs()[-3000:]}\n--- second:\n{second.logs()[-3000:]}") from None

            await wait_stood_down(1, "the other replica to stand down")
            assert await deliver(first, 2) == 200
            await wait_stood_down(2, "the replay to be turned away")
        assert len(fake.sent("chat.postMessage")) == 1
        assert "VPMA do" not in first.logs() + second.logs(), "members' words stay out of the logs"
    finally:
        await asyncio.gather(*(asyncio.to_thread(c.__exit__, None, None, None) for c in contexts))
