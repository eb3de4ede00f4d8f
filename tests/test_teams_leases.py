"""Teams after a crash: a message whose replica died mid-turn is answered once by Teams' resend.

The message's lease (`store.claim_work`) is what a replica that died left
behind; these tests plant it directly in the store, as the dead replica would
have, with short lease and wait times so nothing sleeps for long.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

import adapters.teams.bot as teams_bot
from adapters.teams import mount
from bot.settings import Settings
from bot.wiring import build_guidebot
from index.embedder import Embedder
from index.guide_index import GuideIndex
from tests.teams_fake import FakeConnector, TeamsHarness, start_harness

QUESTION = "What does a VPMA do?"


@pytest.fixture()
async def teams(
    guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TeamsHarness]:
    monkeypatch.setattr(teams_bot, "BUSY_WAIT_SECONDS", 0.3)
    monkeypatch.setattr(teams_bot, "BUSY_POLL_SECONDS", 0.05)
    settings = guide_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/t.sqlite3"})
    settings.__dict__.pop("resolved_database_url", None)
    connector = await FakeConnector().start()
    guidebot = build_guidebot(settings, embedder)
    app = web.Application()
    mount(app, guidebot, settings)
    harness = await start_harness(app, connector, guidebot)
    yield harness
    await harness.client.close()
    await connector.close()
    guidebot.store.close()


def lease_key(activity: dict) -> str:
    return f"teams:activity:{activity['conversation']['id']}:{activity['id']}"


async def test_a_resend_of_a_message_whose_replica_died_is_answered_once_the_lease_lapses(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    # The replica that first received it leased it, then died (kill -9) before replying.
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "won"
    await asyncio.sleep(1.1)

    status, _ = await teams.post(activity)
    again, _ = await teams.post(activity)

    assert (status, again) == (200, 200)
    assert len(teams.connector.messages()) == 1
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "done"


async def test_a_resend_while_the_lease_is_held_gets_503_with_retry_after_and_no_reply(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=60) == "won"

    response = await teams.client.post("/api/messages", json=activity)

    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
    assert teams.connector.sent == []


async def test_a_resend_arriving_mid_answer_waits_for_it_and_gets_200(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    teams.connector.fail_next(503)  # the first turn takes a retry: the resend lands while it runs

    first, second = await asyncio.gather(teams.post(activity), teams.post(activity))

    assert first[0] == second[0] == 200
    assert len(teams.connector.messages()) == 1


async def test_a_turn_whose_reply_could_not_be_delivered_is_over_and_a_resend_is_not_answered(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    teams.connector.fail_next(400)  # refused for good: nothing delivered, the failure logged, Teams told 200
    status, _ = await teams.post(activity)
    assert status == 200 and teams.connector.messages() == []

    status, _ = await teams.post(activity)  # answered at once, not after a wait for the lease

    assert status == 200
    assert teams.connector.messages() == []
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "done"
