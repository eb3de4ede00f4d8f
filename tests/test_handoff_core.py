"""The hand-off desk's contract, on SQLite and PostgreSQL, with a recording messenger for each platform.

A member's question goes to the program team once however often it is handed off (two clicks, two
replicas); a staff reply reaches the member once however often its event arrives; what the platform
would not take is tried again after the lease lapses, or told to the staff; an open hand-off is
reminded of once; and purge forgets hand-offs with their questions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.handoff import Handoff, HandoffError, Sent, StaffPost, StaffReply
from bot.handoff.desk import HandoffDesk
from bot.inbox import Inbox
from bot.settings import Settings
from bot.store import AnswerRecord, SqlStore
from conftest_store import Clock, database_url, postgres_schema_url  # noqa: F401

STAFF = "slack:CSTAFF01"


@dataclass
class RecordingMessenger:
    """A platform that records what the desk asks of it; `relay_result` / `post_result` make it fail."""

    platform: str
    posts: list[Handoff] = field(default_factory=list)
    relays: list[tuple[Handoff, StaffReply, int]] = field(default_factory=list)
    states: list[Handoff] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    relay_result: Sent = "delivered"
    post_result: str = "posted"

    async def post_handoff(self, place: str, handoff: Handoff) -> StaffPost | Any:
        if self.post_result != "posted":
            return self.post_result
        self.posts.append(handoff)
        await asyncio.sleep(0)
        return StaffPost(self.platform, f"{self.platform}:{place}:{len(self.posts)}", {"channel": place, "ts": str(len(self.posts))})

    async def relay(self, handoff: Handoff, reply: StaffReply, *, number: int) -> Sent:
        if self.relay_result == "delivered":
            self.relays.append((handoff, reply, number))
        return self.relay_result

    async def show_state(self, handoff: Handoff) -> Sent:
        self.states.append(handoff)
        return "delivered"

    async def notify(self, handoff: Handoff, text: str) -> Sent:
        self.notices.append(text)
        return "delivered"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[SqlStore]:  # noqa: F811
    opened = SqlStore(database_url, clock=clock)
    yield opened
    opened.close()


def make_desk(store: SqlStore, clock: Clock, messengers: dict[str, Any], staff: str | None = STAFF) -> HandoffDesk:
    settings = Settings(staff_channel=staff, handoff_remind_hours=24, max_question_chars=300)
    desk = HandoffDesk(store, Inbox(store, settings, store.member_hash), settings, messengers)
    desk.clock = clock
    return desk


def log_question(store: SqlStore, answer_id: str = "A1", question: str = "Does the program pay for the CPE course?", answered: bool = False) -> None:
    store.save_answer(
        AnswerRecord(answer_id, "slack", question, answered, None if answered else "out_of_scope", ("Guide › CPE",) if answered else (), 0.2, "h", "D1")
    )


async def hand_off(desk: HandoffDesk, answer_id: str = "A1") -> tuple[Handoff, bool]:
    return await desk.hand_off(answer_id, member_name="Dr. Rivera", member_platform="slack", reply_to={"channel": "D1"})


async def test_a_question_handed_off_twice_at_once_is_posted_once(store: SqlStore, clock: Clock) -> None:
    log_question(store)
    slack = RecordingMessenger("slack")
    desk = make_desk(store, clock, {"slack": slack})
    results = await asyncio.gather(*(hand_off(desk) for _ in range(3)))
    await desk.idle()
    assert sum(created for _, created in results) == 1
    assert {h.id for h, _ in results} == {results[0][0].id}
    [posted] = slack.posts
    assert posted.question == "Does the program pay for the CPE course?" and posted.bot_said == "Said the guide doesn't cover it."
    stored = store.handoff(posted.id)
    assert stored is not None and stored.staff_post is not None and stored.state == "open"


async def test_two_replicas_on_one_database_make_one_hand_off(database_url: str, clock: Clock) -> None:  # noqa: F811
    first, second = SqlStore(database_url, clock=clock), SqlStore(database_url, clock=clock)
    try:
        log_question(first)
        one, two = RecordingMessenger("slack"), RecordingMessenger("slack")
        desks = [make_desk(first, clock, {"slack": one}), make_desk(second, clock, {"slack": two})]
        await asyncio.gather(*(hand_off(d) for d in desks for _ in range(2)))
        await asyncio.gather(*(d.idle() for d in desks))
        assert len(first.handoffs()) == 1
        assert len(one.posts) + len(two.posts) == 1
    finally:
        first.close()
        second.close()


async def test_a_staff_reply_reaches_the_member_once_and_a_second_is_a_follow_up(store: SqlStore, clock: Clock) -> None:
    log_question(store)
    slack = RecordingMessenger("slack")
    desk = make_desk(store, clock, {"slack": slack})
    handoff, _ = await hand_off(desk)
    await desk.idle()
    post = store.handoff(handoff.id).staff_post  # type: ignore[union-attr]
    assert post is not None
    for _ in range(2):  # the event and its retry
        assert await desk.staff_replied(post.key, reply_key="slack:CSTAFF01:9.1", who="Ann Lee", text="Yes, up to $500 a year.")
    await desk.idle()
    assert [(r.who, r.text, n) for _, r, n in slack.relays] == [("Ann Lee", "Yes, up to $500 a year.", 1)]
    assert slack.states[-1].state == "answered" and slack.states[-1].last_reply.who == "Ann Lee"  # type: ignore[union-attr]
    await desk.staff_replied(post.key, reply_key="slack:CSTAFF01:9.2", who="Bo", text="Ask your mentor to sign the form.")
    await desk.idle()
    assert [n for _, _, n in slack.relays] == [1, 2]
    assert not await desk.staff_replied("slack:CSTAFF01:unknown", reply_key="x", who="Bo", text="chat"), "ordinary staff talk"


async def test_a_staff_reply_is_stored_and_relayed_with_patient_details_redacted_and_contacts_kept(store: SqlStore, clock: Clock) -> None:
    log_question(store)
    slack = RecordingMessenger("slack")
    desk = make_desk(store, clock, {"slack": slack})
    handoff, _ = await hand_off(desk)
    await desk.idle()
    key = store.handoff(handoff.id).staff_post.key  # type: ignore[union-attr]
    await desk.staff_replied(key, reply_key="r1", who="Ann", text="See MRN 55512345 for my patient John Smith, or write to office@example.org.")
    await desk.idle()
    [(_, reply, _)] = slack.relays
    assert "55512345" not in reply.text and "John Smith" not in reply.text
    assert "office@example.org" in reply.text, "the program's own contacts reach the member whole"
    assert "55512345" not in repr(store.handoff(handoff.id))


async def test_a_member_the_platform_will_not_take_a_reply_for_is_tried_again_then_the_staff_told(store: SqlStore, clock: Clock) -> None:
    log_question(store)
    slack = RecordingMessenger("slack", relay_result="unavailable")
    desk = make_desk(store, clock, {"slack": slack})
    handoff, _ = await hand_off(desk)
    await desk.idle()
    key = store.handoff(handoff.id).staff_post.key  # type: ignore[union-attr]
    await desk.staff_replied(key, reply_key="r1", who="Ann", text="Yes.")
    await desk.idle()
    assert slack.relays == [] and store.unfinished("handoff:relay:") == []  # leased, not lapsed yet
    clock.advance(seconds=desk.inbox.lease_for(desk.relays) + 1)
    slack.relay_result = "delivered"
    assert await desk.inbox.recover_once(desk.relays, desk.spawn) == 1
    await desk.idle()
    assert [n for _, _, n in slack.relays] == [1]

    slack.relay_result = "refused"
    await desk.staff_replied(key, reply_key="r2", who="Ann", text="One more thing.")
    await desk.idle()
    assert any("could not be delivered to Dr. Rivera" in n for n in slack.notices)


async def test_a_teams_member_is_answered_from_a_slack_staff_channel(store: SqlStore, clock: Clock) -> None:
    log_question(store)
    slack, teams = RecordingMessenger("slack"), RecordingMessenger("teams")
    desk = make_desk(store, clock, {"slack": slack, "teams": teams})
    handoff, _ = await desk.hand_off("A1", member_name="Dr. Okafor", member_platform="teams", reply_to={"conversation": "19:abc"})
    await desk.idle()
    assert len(slack.posts) == 1 and teams.posts == []
    await desk.staff_replied(store.handoff(handoff.id).staff_post.key, reply_key="r1", who="Ann", text="Yes.")  # type: ignore[union-attr]
    await desk.idle()
    assert len(teams.relays) == 1 and slack.relays == [] and teams.relays[0][0].reply_to == {"conversation": "19:abc"}


async def test_an_open_hand_off_gets_one_reminder_and_an_answered_one_none(store: SqlStore, clock: Clock) -> None:
    log_question(store, "A1")
    log_question(store, "A2", "Can I defer the MMM?")
    slack = RecordingMessenger("slack")
    desk = make_desk(store, clock, {"slack": slack})
    open_one, _ = await hand_off(desk, "A1")
    answered, _ = await hand_off(desk, "A2")
    await desk.idle()
    await desk.staff_replied(store.handoff(answered.id).staff_post.key, reply_key="r", who="Ann", text="Yes.")  # type: ignore[union-attr]
    await desk.idle()
    await desk.sweep_once()
    await desk.idle()
    assert slack.notices == [], "not due yet"
    clock.advance(hours=25)
    for _ in range(2):
        await desk.sweep_once()
        await desk.idle()
    assert len(slack.notices) == 1 and "Dr. Rivera's question has waited over 24 hours" in slack.notices[0]
    assert store.handoff(open_one.id).reminded_at is not None  # type: ignore[union-attr]


async def test_hand_offs_are_refused_when_off_or_for_an_unknown_answer(store: SqlStore, clock: Clock) -> None:
    with pytest.raises(HandoffError) as off:
        await hand_off(make_desk(store, clock, {}, staff=None))
    assert off.value.reason == "disabled"
    with pytest.raises(HandoffError) as unknown:
        await hand_off(make_desk(store, clock, {"slack": RecordingMessenger("slack")}), "A-never")
    assert unknown.value.reason == "unknown_answer"


async def test_purge_forgets_hand_offs_with_their_questions(store: SqlStore, clock: Clock) -> None:
    log_question(store)
    desk = make_desk(store, clock, {"slack": RecordingMessenger("slack")})
    await hand_off(desk)
    await desk.idle()
    clock.advance(days=2)
    store.purge(clock.now - timedelta(days=1))
    assert store.handoffs() == [] and store.handoff_for_answer("A1") is None
