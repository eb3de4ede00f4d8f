"""`HandoffDesk` (`Guidebot.handoffs`): what adapters call to hand a question to the program team, to take
a staff reply, and to publish one; and the loop that recovers their durable work and sends reminders.

An adapter calls `hand_off` when a member presses "Ask the program team" and `staff_replied` when a staff
member replies to a hand-off's post, both before acknowledging its platform (they only write to the
database: the posting and relaying run afterwards, as inbox flows, on the desk's own tasks). It fills
`Guidebot.messengers` with its `Messenger` in `mount`, and calls `start()` / `close()` with its server's
start-up and shutdown (the desk runs once per process however many adapters start it).

A platform whose member has no identity of its own but a session the question log hashes (the web
console) calls `hand_off_given` instead, and fetches the team's replies with `handoff_given`: both only
for an answer that session was given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import Counter

from bot.handoff.flows import PostFlow, Relay, RelayFlow, RemindFlow
from bot.handoff.model import (
    HANDOFF_PLATFORM,
    RELAY_ANSWER_PREFIX,
    Handoff,
    HandoffError,
    HandoffState,
    Messenger,
    Sent,
    StaffReply,
    is_relay_answer,
    staff_place,
)
from bot.handoff.publish import publish_handoff
from bot.inbox import Inbox, Outcome
from bot.metrics import ERRORS, REGISTRY
from bot.privacy import PhiFinding, cut, find_phi, looks_like_phi
from bot.settings import Settings
from bot.store import AnswerRecord, StateStore, utc_now

log = logging.getLogger(__name__)

CLOSE_GRACE_SECONDS = 10.0
HANDOFFS = Counter(
    "guidebot_handoffs",
    "Hand-offs to the program team: opened, posted, relayed, undelivered, reminded, published",
    ["event"],
    registry=REGISTRY,
)
PLATFORM_NAMES = {"slack": "Slack", "teams": "Microsoft Teams"}
CONTACT_KINDS = frozenset({"EMAIL", "PHONE"})
"""What a staff reply keeps of what the privacy guard finds: the program's own contacts."""


def staff_text(text: str, max_chars: int) -> str:
    """A staff reply as it is stored, relayed and published: cut, and with any patient identifiers redacted as a
    member's question would be, but the program's own e-mail addresses and phone numbers kept (a reply saying
    "write to office@…" must reach the member whole). Runs the privacy guard: call it from a worker thread."""
    shown = cut(text, max_chars)
    findings = find_phi(shown, max_chars)
    patient = [f for f in findings if f.kind not in CONTACT_KINDS]
    if not patient:
        return shown
    without_contacts = "".join(shown[a:b] for a, b in _gaps(shown, [f for f in findings if f.kind in CONTACT_KINDS]))
    if all(f.kind == "DATE" for f in patient) and not looks_like_phi(without_contacts, max_chars):
        return shown  # a date alone is no patient's ("the next cohort starts 03/01/2027")
    parts, cursor = [], 0
    for finding in patient:
        parts += [shown[cursor : finding.start], f"[{finding.kind}]"]
        cursor = finding.end
    return "".join([*parts, shown[cursor:]])


def _gaps(text: str, spans: list[PhiFinding]) -> list[tuple[int, int]]:
    cursor, gaps = 0, []
    for span in spans:
        gaps.append((cursor, span.start))
        cursor = span.end
    return [*gaps, (cursor, len(text))]


def bot_said(record: AnswerRecord) -> str:
    """What guidebot did with the question, as the staff post says it."""
    if record.answered:
        quoted = "; ".join(record.sections)
        return f"Answered from the guide, quoting {quoted}." if quoted else "Answered from the guide."
    if record.reason == "out_of_scope":
        return "Said the guide doesn't cover it."
    return f"Did not answer ({record.reason or 'no reason given'})."


def reminder_text(handoff: Handoff, hours: float) -> str:
    return f"Reminder: {handoff.member_name}'s question has waited over {hours:g} hours for the program team. Reply to the hand-off to answer it."


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def undelivered_text(handoff: Handoff, reply: StaffReply, why: str) -> str:
    return (
        f"{reply.who}'s reply could not be delivered to {handoff.member_name} on {platform_name(handoff.member_platform)} ({why}). "
        "Reply again later, or reach the member another way."
    )


class HandoffDesk:
    """Hand-offs for one process: the flows, the messengers by platform, and their background tasks."""

    def __init__(self, store: StateStore, inbox: Inbox, settings: Settings, messengers: dict[str, Messenger]) -> None:
        self.store = store
        self.inbox = inbox
        self.settings = settings
        self.messengers = messengers
        self.place = staff_place(settings.staff_channel)
        self.remind_after = timedelta(hours=settings.handoff_remind_hours)
        self.posts = PostFlow(self._post)
        self.relays = RelayFlow(self._relay)
        self.reminders = RemindFlow(self._remind)
        self.flows = (self.posts, self.relays, self.reminders)
        self.clock = utc_now
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether members are offered "Ask the program team" (`GUIDEBOT_STAFF_CHANNEL` is set)."""
        return self.place is not None

    def _staff(self) -> Messenger | None:
        return self.messengers.get(self.place.platform) if self.place else None

    # ------------------------------------------------------------ the member's side

    async def hand_off(self, answer_id: str, *, member_name: str, member_platform: str, reply_to: dict[str, Any]) -> tuple[Handoff, bool]:
        """Hand the question of `answer_id` to the program team: (the hand-off, whether this call made it).

        One per answer: a second click, a retry or another replica gets the first. Only writes to the
        database (the question comes from the question log, already redacted); the staff post follows on
        the desk's tasks. HandoffError when hand-offs are off or the answer is unknown (never logged, or
        purged). Raises what the store raises: the adapter must not tell the member it was sent.
        """
        if not self.enabled:
            raise HandoffError("disabled", "hand-offs are off: GUIDEBOT_STAFF_CHANNEL is not set")
        if is_relay_answer(answer_id):
            raise HandoffError("relay", "a program team reply cannot be handed off again")
        found = await asyncio.to_thread(self.store.handoff_for_answer, answer_id)
        created = False
        if found is not None:
            handoff = found
        else:
            record = await asyncio.to_thread(self.store.answer, answer_id)
            if record is None or not record.question.strip():
                raise HandoffError("unknown_answer", f"no logged question for answer {answer_id}")
            draft = Handoff(
                id="",
                answer_id=answer_id,
                question=record.question,
                member_name=member_name.strip() or "A member",
                member_platform=member_platform,
                reply_to=reply_to,
                bot_answered=record.answered,
                bot_said=bot_said(record),
            )
            handoff, created = await asyncio.to_thread(self.store.open_handoff, draft)
            if created:
                HANDOFFS.labels("opened").inc()
        if handoff.staff_post is None:
            await self._lease_post(handoff.id)
        return handoff, created

    async def _lease_post(self, handoff_id: str) -> None:
        key = self.posts.key(handoff_id)
        if await self.inbox.accept(self.posts, key, handoff_id, text="", user_id=None):
            self.spawn(self.inbox.run(self.posts, key, partial(self._post, handoff_id)))

    # ------------------------------------------------------------ a member known only by a session (the console)

    def given_to(self, answer_id: str, platform: str, user_id: str) -> bool:
        """Whether the question log says this member was given `answer_id`; for a relayed reply's id
        (`relay_answer_id`), whether the hand-off has that reply and its answer was given to the member.
        Blocking: the database."""
        if is_relay_answer(answer_id):
            handoff_id, _, number = answer_id.removeprefix(RELAY_ANSWER_PREFIX).rpartition(":")
            handoff = self.store.handoff(handoff_id) if handoff_id and number.isdigit() else None
            return handoff is not None and 1 <= int(number) <= len(handoff.replies) and self.given_to(handoff.answer_id, platform, user_id)
        record = self.store.answer(answer_id)
        return record is not None and record.platform == platform and record.user_hash == self.store.member_hash(platform, user_id)

    async def hand_off_given(self, answer_id: str, *, user_id: str, member_name: str, member_platform: str) -> tuple[Handoff, bool]:
        """`hand_off` for a platform whose member is known only by the id the question log hashes (the console's
        session): only for an answer that member was given (HandoffError "not_given" otherwise, so that nobody
        hands off another member's question by its id). `reply_to` is the member's hashed id: the reply waits in
        the hand-off (`handoff_given`) for that member to fetch."""
        if not self.enabled:
            raise HandoffError("disabled", "hand-offs are off: GUIDEBOT_STAFF_CHANNEL is not set")

        def member() -> str | None:
            given = not is_relay_answer(answer_id) and self.given_to(answer_id, member_platform, user_id)
            return self.store.member_hash(member_platform, user_id) if given else None

        hashed = await asyncio.to_thread(member)
        if hashed is None:
            raise HandoffError("not_given", f"answer {answer_id} was not given to this member")
        return await self.hand_off(answer_id, member_name=member_name, member_platform=member_platform, reply_to={"member": hashed})

    async def handoff_given(self, answer_id: str, *, platform: str, user_id: str) -> Handoff | None:
        """The hand-off of `answer_id`, with the program team's replies so far, when this member was given the
        answer and handed it off; None otherwise (no hand-off, or another member's)."""

        def find() -> Handoff | None:
            handoff = self.store.handoff_for_answer(answer_id) if self.given_to(answer_id, platform, user_id) else None
            return handoff if handoff is not None and handoff.member_platform == platform else None

        return await asyncio.to_thread(find)

    # ------------------------------------------------------------ the staff's side

    async def staff_replied(self, post_key: str, *, reply_key: str, who: str, text: str) -> bool:
        """A staff message under the staff post `post_key`: relay it to the member. False when `post_key` is
        no hand-off's post (ordinary talk in the staff place); True when it is (relayed once, however often
        the platform sends it). Call it before acknowledging the platform; raises what the store raises."""
        handoff = await asyncio.to_thread(self.store.handoff_for_post, post_key)
        if handoff is None:
            return False
        await self._take_reply(handoff, reply_key, who, text)
        return True

    async def staff_replied_to(self, handoff_id: str, *, reply_key: str, who: str, text: str) -> Handoff | None:
        """`staff_replied` for a reply written where there is no staff post to answer under (the staff
        dashboard): the hand-off named by its id, relayed to the member the same durable way, and its staff
        post marked answered. The hand-off, or None when there is no such hand-off."""
        handoff = await asyncio.to_thread(self.store.handoff, handoff_id)
        if handoff is not None:
            await self._take_reply(handoff, reply_key, who, text)
        return handoff

    async def _take_reply(self, handoff: Handoff, reply_key: str, who: str, text: str) -> None:
        stored = await asyncio.to_thread(staff_text, text, self.settings.max_question_chars)
        relay = Relay(handoff.id, reply_key, who.strip() or "The program team", stored, self.clock())
        key = self.relays.key(reply_key)
        if await self.inbox.accept(self.relays, key, relay, text="", user_id=None):  # the relay's text is `stored`
            self.spawn(self.inbox.run(self.relays, key, partial(self._relay, relay)))

    def queue(self, state: HandoffState, limit: int) -> tuple[list[Handoff], dict[str, int]]:
        """The staff dashboard's queue: at most `limit` hand-offs in `state` (open ones oldest first, the others
        newest first), and how many there are in each state. Blocking: the database."""
        return self.store.handoff_queue(state, limit), self.store.handoff_counts()

    async def publish(self, handoff_id: str, title: str | None = None, *, day: date | None = None) -> tuple[Handoff, Path]:
        """Write the hand-off's replies into the guide's program-team document (see `bot.handoff.publish`), mark
        it published and show that on its staff post. HandoffError: no such hand-off, or no reply yet."""
        handoff, path = await asyncio.to_thread(self.publish_now, handoff_id, title, day=day)
        staff = self._staff()
        if staff is not None and handoff.staff_post is not None:
            await staff.show_state(handoff)
        return handoff, path

    def publish_now(self, handoff_id: str, title: str | None = None, *, day: date | None = None) -> tuple[Handoff, Path]:
        """`publish` without the staff post's update (the CLI's). Blocking: files and the database."""
        handoff = self.store.handoff(handoff_id)
        if handoff is None:
            raise HandoffError("not_found", f"no hand-off {handoff_id}")
        path, chosen = publish_handoff(self.settings.knowledge_dir, self.settings.documents_dir, handoff, title, day or self.clock().date())
        self.store.mark_published(handoff_id, chosen)
        HANDOFFS.labels("published").inc()
        published = self.store.handoff(handoff_id)
        assert published is not None
        return published, path

    # ------------------------------------------------------------ the flows' work

    async def _post(self, handoff_id: str) -> Outcome:
        handoff = await asyncio.to_thread(self.store.handoff, handoff_id)
        if handoff is None or handoff.staff_post is not None:
            return Outcome.DONE
        staff = self._staff()
        if staff is None or self.place is None:
            ERRORS.labels(HANDOFF_PLATFORM).inc()
            log.error("handoff: %s cannot be posted: no %s adapter is running", handoff_id, self.place.platform if self.place else "staff")
            return Outcome.DONE
        posted = await staff.post_handoff(self.place.place, handoff)
        if posted == "unavailable":
            return Outcome.LATER
        if posted == "refused":
            ERRORS.labels(HANDOFF_PLATFORM).inc()
            log.error("handoff: the staff place refused hand-off %s (is the bot in %s?)", handoff_id, self.settings.staff_channel)
            return Outcome.DONE
        await asyncio.to_thread(self.store.set_staff_post, handoff_id, posted)
        HANDOFFS.labels("posted").inc()
        log.info("handoff: %s posted to the program team", handoff_id)
        return Outcome.DONE

    async def _relay(self, relay: Relay) -> Outcome:
        reply = StaffReply(relay.key, relay.who, relay.text, relay.at)
        added = await asyncio.to_thread(self.store.add_handoff_reply, relay.handoff_id, reply)
        if added is None:
            return Outcome.DONE  # purged meanwhile
        handoff, number = added
        messenger = self.messengers.get(handoff.member_platform)
        sent: Sent = "refused" if messenger is None else await messenger.relay(handoff, reply, number=number)
        if sent == "unavailable":
            return Outcome.LATER
        if sent == "refused":
            ERRORS.labels(HANDOFF_PLATFORM).inc()
            log.error("handoff: a reply to %s could not be delivered to the member", handoff.id)
            platform = platform_name(handoff.member_platform)
            why = f"{platform} is not connected here" if messenger is None else f"{platform} refused it"
            await self._notify(handoff, undelivered_text(handoff, reply, why))
            HANDOFFS.labels("undelivered").inc()
            return Outcome.DONE
        log.info("handoff: reply %s to %s relayed to the member", number, handoff.id)
        HANDOFFS.labels("relayed").inc()
        staff = self._staff()
        if staff is not None and handoff.staff_post is not None:
            await staff.show_state(handoff)
        return Outcome.DONE

    async def _remind(self, handoff_id: str) -> Outcome:
        handoff = await asyncio.to_thread(self.store.handoff, handoff_id)
        if handoff is None or handoff.state != "open" or handoff.reminded_at is not None:
            return Outcome.DONE
        hours = self.remind_after.total_seconds() / 3600
        if await self._notify(handoff, reminder_text(handoff, hours)) == "unavailable":
            return Outcome.LATER
        await asyncio.to_thread(self.store.mark_reminded, handoff_id)
        HANDOFFS.labels("reminded").inc()
        return Outcome.DONE

    async def _notify(self, handoff: Handoff, text: str) -> Sent:
        staff = self._staff()
        if staff is None:
            log.error("handoff: no staff messenger to tell about %s", handoff.id)
            return "refused"
        return await staff.notify(handoff, text)

    # ------------------------------------------------------------ running

    async def sweep_once(self) -> int:
        """Lease reminders that fell due, and posts a stopped replica never leased; return how many."""
        now = self.clock()
        due = await asyncio.to_thread(self.store.handoffs_to_remind, now - self.remind_after)
        for handoff in due:
            key = self.reminders.key(handoff.id)
            if await self.inbox.accept(self.reminders, key, handoff.id, text="", user_id=None):
                self.spawn(self.inbox.run(self.reminders, key, partial(self._remind, handoff.id)))
        unposted = await asyncio.to_thread(self.store.handoffs_unposted, now - timedelta(seconds=self.inbox.lease_for(self.posts)))
        for handoff in unposted:
            await self._lease_post(handoff.id)
        return len(due) + len(unposted)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:  # noqa: BLE001 - the database may be briefly away; the next round tries again
                log.exception("handoff: could not look for reminders due")
            await asyncio.sleep(self.inbox.recover_every_seconds)

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        """Recover the hand-offs' lapsed work and send reminders, until `close`; once per process, only when
        hand-offs are on. Adapters call it from their start-up (a second call does nothing)."""
        if not self.enabled or self._loop is not None:
            return
        if self._staff() is None:
            log.warning("handoff: GUIDEBOT_STAFF_CHANNEL names %s, which is not configured here: hand-offs wait", self.settings.staff_channel)
        recovery = self.inbox.recover_forever(self.flows, self.spawn)
        self._loop = asyncio.get_running_loop().create_task(self._run(recovery))

    async def _run(self, recovery: Coroutine[Any, Any, None]) -> None:
        await asyncio.gather(recovery, self._sweep_forever())

    async def idle(self, timeout: float = 20.0) -> bool:
        """Wait until no hand-off work is running (True), or `timeout` seconds pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=left)
        return True

    async def close(self) -> None:
        """Stop the loop; let work in flight finish (briefly), then cancel it: its leases lapse and recovery
        takes it up again."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        if not await self.idle(CLOSE_GRACE_SECONDS):
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
