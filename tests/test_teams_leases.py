"""Teams questions are acknowledged at once and answered after; nothing is lost or answered twice.

A replica that died mid-answer leaves the question's lease (`store.claim_work`)
behind; these tests plant it in the store as that replica would have, with a
one-second lease so nothing waits long.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from adapters.teams import mount
from adapters.teams.answering import WORK_PREFIX
from adapters.teams.answering import stored_work as lease_work
from bot.settings import Settings
from bot.wiring import build_guidebot
from guidebot_testing.teams import FakeConnector, TeamsHarness, start_harness, teams_config
from index.embedder import Embedder
from index.guide_index import GuideIndex

QUESTION = "What does a VPMA do?"


@pytest.fixture()
async def teams(guide_settings: Settings, guide_index: GuideIndex, embedder: Embedder, tmp_path: Path) -> AsyncIterator[TeamsHarness]:
    config = teams_config(guide_settings, database_url=f"sqlite:///{tmp_path}/t.sqlite3", work_lease_seconds=1)
    connector = await FakeConnector().start()
    guidebot = build_guidebot(config.settings, embedder)
    app = web.Application()
    mount(app, guidebot, config.settings, config.teams)
    harness = await start_harness(app, connector, guidebot)
    yield harness
    await harness.client.close()
    await connector.close()
    guidebot.store.close()


def stored_work(activity: dict) -> str:
    """The lease a local-mode replica takes for `activity` (the member hashed, no app id)."""
    return lease_work(activity, member="member-hash", app_id=None, max_chars=2000)


def lease_key(activity: dict) -> str:
    return f"{WORK_PREFIX}{activity['conversation']['id']}:{activity['id']}"


async def wait_for_messages(connector: FakeConnector, count: int, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while len(connector.messages()) < count:
            await asyncio.sleep(0.05)


async def test_a_question_gets_its_200_before_the_answer_is_sent(teams: TeamsHarness) -> None:
    teams.connector.fail_next(429, retry_after="2")  # the connector holds the answer back for two seconds

    status, _ = await teams.post(teams.message(QUESTION), settle=False)

    assert status == 200
    assert teams.connector.messages() == []
    await teams.idle()
    assert len(teams.connector.messages()) == 1
    assert "Vice President of Medical Affairs" in str(teams.connector.messages()[0].body)


async def test_a_resend_of_a_message_whose_replica_died_is_answered_once_the_lease_lapses(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    # The replica that first received it leased it, then died (kill -9) before Teams had its 200.
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "won"
    await asyncio.sleep(1.1)

    status, _ = await teams.post(activity)
    again, _ = await teams.post(activity)

    assert (status, again) == (200, 200)
    assert len(teams.connector.messages()) == 1
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "done"


async def test_a_question_whose_replica_died_after_the_200_is_answered_by_recovery_without_a_resend(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    work = stored_work(activity)
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1, work=work) == "won"

    await wait_for_messages(teams.connector, 1)
    await teams.idle()

    (reply,) = teams.connector.messages()
    assert reply.conversation_id == activity["conversation"]["id"]
    assert "Vice President of Medical Affairs" in str(reply.body)
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "done"
    status, _ = await teams.post(activity)  # Teams' own resend, late: not answered again
    assert status == 200 and len(teams.connector.messages()) == 1


async def test_a_resend_while_another_replica_holds_the_lease_gets_200_and_no_second_answer(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=60, work=stored_work(activity)) == "won"

    status, _ = await teams.post(activity)

    assert status == 200
    assert teams.connector.sent == []


async def test_a_resend_arriving_mid_answer_gets_200_and_one_answer(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    teams.connector.fail_next(503)  # the first answer takes a retry: the resend lands while it runs

    first, second = await asyncio.gather(teams.post(activity), teams.post(activity))

    assert first[0] == second[0] == 200
    assert len(teams.connector.messages()) == 1


async def test_an_answer_slower_than_its_lease_is_not_taken_over_by_this_replica(teams: TeamsHarness) -> None:
    activity = teams.message("MRN 55512345: what does a VPMA do?")
    teams.connector.fail_next(429, retry_after="2.5")  # twice the lease: recovery runs meanwhile

    status, _ = await teams.post(activity, settle=False)
    await asyncio.sleep(1.5)
    (lapsed,) = teams.guidebot.store.unfinished(WORK_PREFIX)
    await teams.idle()

    assert status == 200
    assert len(teams.connector.messages()) == 1
    assert "55512345" not in lapsed.work and "[MRN]" in lapsed.work  # stored redacted, answered as typed


async def test_a_turn_whose_reply_could_not_be_delivered_is_over_and_a_resend_is_not_answered(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    teams.connector.fail_next(400)  # refused for good: nothing delivered, the failure logged, Teams told 200
    status, _ = await teams.post(activity)
    assert status == 200 and teams.connector.messages() == []

    status, _ = await teams.post(activity)

    assert status == 200
    assert teams.connector.messages() == []
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "done"


async def test_a_question_the_store_cannot_lease_gets_503_so_teams_sends_it_again(teams: TeamsHarness) -> None:
    teams.guidebot.store.close()

    status, body = await teams.post(teams.message(QUESTION))

    assert status == 503 and "send it again" in body["error"]
    assert teams.connector.sent == []


async def test_a_question_that_fails_to_be_answered_tells_the_member_and_is_not_retried(teams: TeamsHarness, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "t.sqlite3") as db:
        db.execute("DROP TABLE questions")  # the question log breaks; leases still work
    activity = teams.message(QUESTION)

    status, _ = await teams.post(activity)

    assert status == 200
    (reply,) = teams.connector.messages()
    assert "couldn't answer that just now" in reply.body["text"]
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "done"


async def test_answers_reuse_one_connection_to_the_connector(teams: TeamsHarness) -> None:
    """The connector client outlives a turn: one kept-alive connection, not a new client and socket per answer."""
    for question in (QUESTION, "What is a CPE?", "What does a CMO do?"):
        status, _ = await teams.post(teams.message(question))
        assert status == 200

    peers = {sent.peer for sent in teams.connector.messages()}
    assert len(teams.connector.messages()) == 3
    assert len(peers) == 1 and None not in peers


async def test_a_reply_the_connector_keeps_throttling_is_sent_again_once_the_lease_lapses(teams: TeamsHarness) -> None:
    activity = teams.message(QUESTION)
    teams.connector.fail_next(503, times=5)  # every attempt of the first turn fails

    status, _ = await teams.post(activity)
    assert status == 200 and teams.connector.messages() == []

    await wait_for_messages(teams.connector, 1)  # the recovery loop, once the one-second lease lapsed
    await teams.idle()
    assert len(teams.connector.messages()) == 1
    assert teams.guidebot.store.claim_work(lease_key(activity), lease_seconds=1) == "done"
