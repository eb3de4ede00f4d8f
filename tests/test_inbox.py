"""The inbox's contract, on SQLite and PostgreSQL: recorded before acknowledged, handled once, marked done, and
re-run when its lease lapses.

A small flow of notes stands in for a platform: the tests accept work, let a
"replica" die by never running it (or by a handler that raises), move the
store's clock past the lease and recover, with the real store underneath.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from bot.inbox import UNREADABLE, Flow, Inbox, Outcome
from bot.settings import Settings
from bot.store import SqlStore
from conftest_store import Clock, database_url, postgres_schema_url  # noqa: F401

LEASE = 60
PREFIX = "note:"


@dataclass(frozen=True)
class Note:
    ref: str
    text: str
    member: str | None = None


@dataclass
class NoteFlow(Flow[Note]):
    """Notes: stored as JSON, handled by remembering them; `fail_with` makes the handler raise."""

    handled: list[Note] = field(default_factory=list)
    unreadable_keys: list[str] = field(default_factory=list)
    fail_with: Exception | None = None
    outcome: Outcome = Outcome.DONE
    prefix = PREFIX
    platform = "notes"
    lease_seconds = LEASE

    def dumps(self, event: Note, *, text: str, member: str | None) -> str:
        return json.dumps(asdict(Note(event.ref, text, member)))

    def loads(self, key: str, work: str) -> Note:
        return Note(**json.loads(work))

    async def handle(self, key: str, event: Note) -> Outcome:
        return await self.answer(event)

    async def answer(self, note: Note) -> Outcome:
        if self.fail_with is not None:
            raise self.fail_with
        self.handled.append(note)
        return self.outcome

    def unreadable(self, key: str) -> None:
        self.unreadable_keys.append(key)


@dataclass
class Replica:
    """One process's inbox over its own connection to the shared database."""

    store: SqlStore
    inbox: Inbox
    flow: NoteFlow
    spawned: list[Coroutine[Any, Any, None]] = field(default_factory=list)

    async def recover(self) -> int:
        taken = await self.inbox.recover_once(self.flow, self.spawned.append)
        await asyncio.gather(*self.spawned)
        self.spawned.clear()
        return taken

    def state(self, key: str) -> str:
        """`done`, `busy` or `won` (then it was free), read the only way the store offers: by claiming it."""
        return self.store.claim_work(key, lease_seconds=LEASE)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def replicas(database_url: str, clock: Clock) -> Iterator[list[Replica]]:  # noqa: F811
    settings = Settings(_env_file=None, max_question_chars=200, work_lease_seconds=None)  # type: ignore[call-arg]
    opened = []
    for _ in range(2):
        store = SqlStore(database_url, clock=clock)
        opened.append(Replica(store, Inbox(store, settings, store.member_hash), NoteFlow()))
    yield opened
    for replica in opened:
        replica.store.close()


async def test_accepting_the_same_work_twice_leases_it_once(replicas: list[Replica]) -> None:
    first, second = replicas
    note = Note("n1", "What does a VPMA do?")

    taken = [
        await first.inbox.accept(first.flow, "note:n1", note, text=note.text, user_id="U1"),
        await first.inbox.accept(first.flow, "note:n1", note, text=note.text, user_id="U1"),
        await second.inbox.accept(second.flow, "note:n1", note, text=note.text, user_id="U1"),
    ]

    assert taken == [True, False, False]


async def test_handled_work_is_done_and_never_handled_again(replicas: list[Replica], clock: Clock) -> None:
    first, second = replicas
    note = Note("n1", "What does a VPMA do?")
    assert await first.inbox.accept(first.flow, "note:n1", note, text=note.text, user_id="U1")

    await first.inbox.run(first.flow, "note:n1", lambda: first.flow.answer(note))
    clock.advance(seconds=LEASE + 1)

    assert first.flow.handled == [note], "the live handler sees the work as accepted"
    assert await second.recover() == 0
    assert first.state("note:n1") == "done"
    assert not await second.inbox.accept(second.flow, "note:n1", note, text=note.text, user_id="U1")


async def test_a_handler_that_raises_leaves_the_work_for_recovery(replicas: list[Replica], clock: Clock) -> None:
    first, second = replicas
    note = Note("n1", "What does a VPMA do?")
    assert await first.inbox.accept(first.flow, "note:n1", note, text=note.text, user_id="U1")
    first.flow.fail_with = RuntimeError("the platform is down")

    await first.inbox.run(first.flow, "note:n1", lambda: first.flow.answer(note))
    assert first.state("note:n1") == "busy", "still leased until the lease lapses"
    clock.advance(seconds=LEASE + 1)

    assert await second.recover() == 1
    assert [n.ref for n in second.flow.handled] == ["n1"]
    assert second.state("note:n1") == "done"


async def test_work_the_platform_would_not_take_now_is_tried_again_after_its_lease(replicas: list[Replica], clock: Clock) -> None:
    first, _ = replicas
    note = Note("n1", "What does a VPMA do?")
    assert await first.inbox.accept(first.flow, "note:n1", note, text=note.text, user_id="U1")
    first.flow.outcome = Outcome.LATER

    await first.inbox.run(first.flow, "note:n1", lambda: first.flow.answer(note))
    clock.advance(seconds=LEASE + 1)
    first.flow.outcome = Outcome.DONE

    assert await first.recover() == 1
    assert len(first.flow.handled) == 2
    assert first.state("note:n1") == "done"


async def test_lapsed_work_is_recovered_exactly_once_across_two_inboxes(replicas: list[Replica], clock: Clock) -> None:
    first, second = replicas
    for ref in ("n1", "n2", "n3"):
        assert await first.inbox.accept(first.flow, f"note:{ref}", Note(ref, "What is a CPE?"), text="What is a CPE?", user_id="U1")
    # The first replica dies right after the ack: nothing runs the work. Its leases lapse.
    clock.advance(seconds=LEASE + 1)

    taken = await asyncio.gather(first.recover(), second.recover())

    assert sum(taken) == 3
    handled = sorted(n.ref for n in first.flow.handled + second.flow.handled)
    assert handled == ["n1", "n2", "n3"], "each note once, whichever replica took it"
    assert all(first.state(f"note:{ref}") == "done" for ref in ("n1", "n2", "n3"))
    assert await first.recover() == await second.recover() == 0


async def test_recovery_leaves_work_this_replica_is_still_running_alone(replicas: list[Replica], clock: Clock) -> None:
    first, _ = replicas
    note = Note("n1", "What does a VPMA do?")
    assert await first.inbox.accept(first.flow, "note:n1", note, text=note.text, user_id="U1")
    release = asyncio.Event()

    async def slow() -> Outcome:
        await release.wait()  # queued behind many others for the encoder, past its lease
        return await first.flow.answer(note)

    running = asyncio.create_task(first.inbox.run(first.flow, "note:n1", slow))
    await asyncio.sleep(0)
    clock.advance(seconds=LEASE + 1)

    assert await first.recover() == 0
    release.set()
    await running
    assert first.flow.handled == [note] and first.state("note:n1") == "done"


async def test_stored_work_holds_the_text_cut_and_redacted_and_the_member_hashed(replicas: list[Replica], clock: Clock) -> None:
    first, second = replicas
    typed = "MRN 55512345, DOB 3/4/1961: what does a VPMA do? " + "and more " * 100
    note = Note("n1", typed)
    assert await first.inbox.accept(first.flow, "note:n1", note, text=typed, user_id="U0SECRET01")
    clock.advance(seconds=LEASE + 1)

    (stored,) = first.store.unfinished(PREFIX)
    hashed = first.store.member_hash("notes", "U0SECRET01")
    # A hex digest holds any four digits now and then ("…cc319616b…"): only the rest is the member's text.
    readable = stored.work.replace(hashed, "")
    assert hashed in stored.work
    assert "55512345" not in readable and "1961" not in readable and "U0SECRET01" not in readable
    assert await second.recover() == 1
    (recovered,) = second.flow.handled
    assert len(recovered.text) <= 200 and "[MRN]" in recovered.text and "VPMA" in recovered.text
    assert recovered.member == first.store.member_hash("notes", "U0SECRET01")


async def test_unreadable_work_is_completed_counted_and_the_sweeper_goes_on(replicas: list[Replica], clock: Clock) -> None:
    first, _ = replicas
    before = UNREADABLE.labels(PREFIX)._value.get()
    assert first.store.claim_work("note:broken", lease_seconds=LEASE, work="{not json") == "won"
    assert first.store.claim_work("note:stranger", lease_seconds=LEASE, work='{"kind": "from another version"}') == "won"
    assert await first.inbox.accept(first.flow, "note:n1", Note("n1", "What is an MMM?"), text="What is an MMM?", user_id="U1")
    clock.advance(seconds=LEASE + 1)

    assert await first.recover() == 1

    assert [n.ref for n in first.flow.handled] == ["n1"]
    assert sorted(first.flow.unreadable_keys) == ["note:broken", "note:stranger"]
    assert UNREADABLE.labels(PREFIX)._value.get() - before == 2
    assert first.state("note:broken") == first.state("note:stranger") == "done"
    assert first.store.unfinished(PREFIX) == []


async def test_the_recovery_loop_keeps_going_past_a_failing_round(replicas: list[Replica], clock: Clock) -> None:
    first, _ = replicas
    first.inbox.recover_every_seconds = 0.01
    assert await first.inbox.accept(first.flow, "note:n1", Note("n1", "What is a CPE?"), text="What is a CPE?", user_id="U1")
    clock.advance(seconds=LEASE + 1)
    rounds = 0
    unfinished = first.store.unfinished

    def flaky(prefix: str, limit: int = 100) -> Any:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise ConnectionError("the database is briefly away")
        return unfinished(prefix, limit)

    first.store.unfinished = flaky  # type: ignore[method-assign]
    loop = asyncio.create_task(first.inbox.recover_forever([first.flow], first.spawned.append))
    try:
        async with asyncio.timeout(10):
            while not first.spawned:
                await asyncio.sleep(0.01)
    finally:
        loop.cancel()
    await asyncio.gather(*first.spawned)

    assert rounds >= 2 and [n.ref for n in first.flow.handled] == ["n1"]
