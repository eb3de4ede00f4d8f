"""Staff accounts and the dashboard's overview on the state store, on SQLite and PostgreSQL alike.

An invite link signs in once and not after it expires; revoking a member ends their sessions and
their unused links; tokens are kept only as digests; the overview's numbers are the store's GROUP BY
counts of questions, answers, votes by section and hand-offs, day by day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.handoff.model import Handoff, StaffReply
from bot.settings import Settings
from bot.staff import InvalidEmail, StaffDesk, period_days
from bot.store import AnswerRecord, SqlStore
from bot.store.schema import staff_invites, staff_sessions
from conftest_store import Clock, database_url, postgres_schema_url  # noqa: F401 - fixtures

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[SqlStore]:  # noqa: F811 - the fixture above
    opened = SqlStore(database_url, clock)
    yield opened
    opened.close()


@pytest.fixture
def desk(store: SqlStore, clock: Clock) -> StaffDesk:
    return StaffDesk(store, Settings(public_url="https://guide.example.org/"), clock=clock)


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


def test_an_invite_link_signs_in_once(desk: StaffDesk, store: SqlStore) -> None:
    invite = desk.invite("  Ann.Lee@Example.ORG ")
    assert invite.email == "ann.lee@example.org"
    assert invite.link.startswith("https://guide.example.org/staff/sign-in?token=")
    made = desk.sign_in(token_of(invite.link))
    assert made is not None
    session, member = made
    assert member.email == "ann.lee@example.org" and member.csrf
    signed = desk.signed_in(session)
    assert signed is not None and signed.email == "ann.lee@example.org" and signed.csrf == member.csrf
    assert desk.sign_in(token_of(invite.link)) is None, "a link works once"
    actions = [(row["who"], row["action"]) for row in store.audit_log()]
    assert actions == [("(unknown)", "sign-in refused"), ("ann.lee@example.org", "sign-in"), ("cli", "invite")]


def test_tokens_are_stored_only_as_digests(desk: StaffDesk, store: SqlStore) -> None:
    invite = desk.invite("ann@example.org")
    made = desk.sign_in(token_of(invite.link))
    assert made is not None
    with store._engine.connect() as conn:
        stored = [*conn.execute(sa.select(staff_invites.c.token_hash)).scalars(), *conn.execute(sa.select(staff_sessions.c.token_hash)).scalars()]
    assert len(stored) == 2
    assert token_of(invite.link) not in stored and made[0] not in stored
    assert all(len(value) == 64 for value in stored)


def test_an_invite_link_does_not_work_after_it_expires(desk: StaffDesk, clock: Clock) -> None:
    invite = desk.invite("ann@example.org")
    clock.advance(hours=24, seconds=1)
    assert desk.sign_in(token_of(invite.link)) is None


def test_a_session_ends_when_its_time_is_up(desk: StaffDesk, clock: Clock) -> None:
    made = desk.sign_in(token_of(desk.invite("ann@example.org").link))
    assert made is not None
    clock.advance(hours=11)
    assert desk.signed_in(made[0]) is not None
    clock.advance(hours=1, seconds=1)
    assert desk.signed_in(made[0]) is None


def test_revoking_a_member_ends_their_sessions_and_their_unused_links(desk: StaffDesk, store: SqlStore) -> None:
    made = desk.sign_in(token_of(desk.invite("ann@example.org").link))
    unused = desk.invite("ann@example.org")
    assert made is not None
    assert desk.revoke("ANN@example.org") is True
    assert desk.signed_in(made[0]) is None
    assert desk.sign_in(token_of(unused.link)) is None
    assert desk.revoke("ann@example.org") is False, "already revoked"
    [member] = desk.members()
    assert member["email"] == "ann@example.org" and member["revoked_at"] is not None
    again = desk.invite("ann@example.org")
    assert desk.sign_in(token_of(again.link)) is not None, "a new invite makes a revoked member staff again"


def test_signing_out_ends_the_session(desk: StaffDesk) -> None:
    made = desk.sign_in(token_of(desk.invite("ann@example.org").link))
    assert made is not None
    desk.sign_out(made[0], "ann@example.org")
    assert desk.signed_in(made[0]) is None


def test_malformed_tokens_and_addresses_are_refused(desk: StaffDesk) -> None:
    assert desk.sign_in("") is None and desk.sign_in("x" * 500) is None and desk.sign_in("bad token!") is None
    assert desk.signed_in(None) is None and desk.signed_in("nope") is None
    for address in ("", "ann", "ann@", "<ann@example.org>", "ann@example"):
        with pytest.raises(InvalidEmail):
            desk.invite(address)


def test_a_period_is_one_of_the_offered_ones() -> None:
    assert [period_days(v) for v in ("7", "30", "90", "365", "5", "x", None, "-1")] == [7, 30, 90, 365, 30, 30, 30, 30]


# ---------------------------------------------------------------------------------------------
# The overview's numbers


def seed(store: SqlStore, clock: Clock) -> None:
    """Three days of questions on two platforms, votes on two sections, and two hand-offs (one answered)."""
    def ask(answer_id: str, platform: str, answered: bool, sections: tuple[str, ...], days_ago: int) -> None:
        store.save_answer(
            AnswerRecord(answer_id, platform, "a redacted question", answered, None if answered else "out_of_scope",
                         sections, 0.5, "member", None, created_at=NOW - timedelta(days=days_ago, hours=1))
        )

    ask("A1", "slack", True, ("Roles › VPMA", "Roles › CMO"), 0)
    ask("A2", "slack", True, ("Roles › VPMA",), 0)
    ask("A3", "teams", False, (), 0)
    ask("A4", "console", True, ("Pathways",), 2)
    ask("A5", "console", False, (), 2)
    ask("OLD", "slack", True, ("Roles › VPMA",), 40)
    store.record_feedback("A1", "u1", "slack", "up")
    store.record_feedback("A1", "u2", "slack", "down")
    store.record_feedback("A2", "u1", "slack", "up")
    store.record_feedback("A3", "u3", "teams", "down")
    store.record_feedback("A4", "u4", "console", "up")
    for answer_id, days_ago in (("A3", 0), ("A5", 2)):
        clock.now = NOW - timedelta(days=days_ago)
        store.open_handoff(Handoff("", answer_id, "q", "Member", "console", {"session": "s"}, False, "refused"))
    clock.now = NOW
    [first] = [h for h in store.handoffs() if h.answer_id == "A5"]
    store.add_handoff_reply(first.id, StaffReply("k1", "Ann", "Here is how.", NOW))


def test_the_overview_counts_questions_answers_votes_and_handoffs_per_day(desk: StaffDesk, store: SqlStore, clock: Clock) -> None:
    seed(store, clock)
    overview = desk.overview(7)
    assert (overview.first_day, overview.last_day, overview.days) == ("2026-03-04", "2026-03-10", 7)
    assert overview.platforms == ("console", "slack", "teams")
    by_day = {d.day: d for d in overview.questions}
    assert len(by_day) == 7, "every day of the period, quiet ones as zeros"
    assert by_day["2026-03-10"].asked == {"console": 0, "slack": 2, "teams": 1}
    assert by_day["2026-03-10"].answered == 2
    assert by_day["2026-03-08"].asked == {"console": 2, "slack": 0, "teams": 0} and by_day["2026-03-08"].answered == 1
    assert by_day["2026-03-09"].total == 0 and by_day["2026-03-09"].answer_rate is None
    assert (overview.asked, overview.answered) == (5, 3)
    votes = {v.section: (v.up, v.down) for v in overview.votes}
    assert votes == {"Roles › VPMA": (2, 1), "Roles › CMO": (1, 1), "(no section)": (0, 1), "Pathways": (1, 0)}
    assert overview.votes[0].section == "Roles › VPMA", "the busiest section first"
    handoffs = {h.day: (h.opened, h.answered) for h in overview.handoffs}
    assert handoffs["2026-03-10"] == (1, 0) and handoffs["2026-03-08"] == (1, 1)
    data = overview.to_json()
    assert data["totals"] == {"asked": 5, "answered": 3, "handoffs_opened": 2, "handoffs_answered": 1}
    assert desk.overview(90).asked == 6, "the 40-day-old question is in a longer period"


def test_votes_on_purged_questions_still_count_by_section(desk: StaffDesk, store: SqlStore, clock: Clock) -> None:
    seed(store, clock)
    store.purge(NOW - timedelta(days=1))
    overview = desk.overview(7)
    assert overview.asked == 3, "the purged questions are gone"
    votes = {v.section: (v.up, v.down) for v in overview.votes}
    assert votes["Pathways"] == (1, 0), "kept as the daily count purge left"
    assert votes["Roles › VPMA"] == (2, 1)
