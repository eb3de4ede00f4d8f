"""The console's part in hand-offs: "Ask the program team" from the page, and the team's reply fetched back.

- `POST /api/handoff`: `{"answer_id": "…", "name": "…"}` (the name optional) from the console's session, on
  an answer that session received (a refusal, or an answer it voted 👎): the question and the name go to the
  program team (`HandoffDesk.hand_off_given`). One hand-off per answer, however often it is sent.
- `GET /api/handoff/{answer_id}`: that hand-off's state and the program team's replies so far, for the
  session that sent it (404 for anyone else); the page polls it while a hand-off is open.

Both exist only while hand-offs are on (`GUIDEBOT_STAFF_CHANNEL`); otherwise they answer 404 and `/api/ask`
offers no button. A console member has no platform identity: the hand-off keeps their session id hashed as
the question log keeps it, and `ConsoleMessenger.relay` leaves the reply in the hand-off (where the desk
stored it before relaying) for the page to fetch. The console is never the staff place.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from typing import Any

from aiohttp import web

from adapters.console.session import known_session, session_id
from bot.answer import Answer, Reply
from bot.handoff import Failure, Handoff, HandoffError, Sent, StaffPost, StaffReply, is_relay_answer, relay_answer_id
from bot.http import REQUEST_ID_KEY, BadRequest, RateLimiter, client_address, json_error, read_json_object, throttle
from bot.service import Guidebot
from bot.settings import Settings

log = logging.getLogger("guidebot.console")

PLATFORM = "console"
MAX_HANDOFF_BYTES = 4 * 1024
MAX_NAME_CHARS = 80
DEFAULT_NAME = "A web console visitor"
SENT_NOTE = "Sent to the program team. Their reply will come here."
ANSWER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RELAY_ID = re.compile(r"^handoff:[A-Za-z0-9_-]{1,64}:[0-9]{1,6}$")
"""A relayed reply's answer id (`relay_answer_id`), which the console's 👍 / 👎 on a team reply carry."""


def offers_team(reply: Reply) -> bool:
    """Whether "Ask the program team" goes with this reply (hand-offs being on): a refusal, at once; an answer,
    after a 👎. Not a refusal for patient details, nor a command's summary."""
    return isinstance(reply, Answer) and bool(reply.answer_id) and (reply.answered or reply.reason == "out_of_scope")


def member_name(value: object) -> str | None:
    """The name the member typed, tidied (no control characters, single spaces); the default when blank;
    None when it is not a string or too long."""
    if value is None:
        return DEFAULT_NAME
    if not isinstance(value, str) or len(value) > MAX_NAME_CHARS:
        return None
    shown = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in value)
    return " ".join(shown.split()) or DEFAULT_NAME


def record_vote(guidebot: Guidebot, answer_id: str, session: str, value: str, comment: str | None) -> bool:
    """A console vote, only on what this session was given: an answer, or a program team reply to its own
    hand-off (`relay_answer_id`). True when recorded. Blocking: the database."""
    if not is_relay_answer(answer_id):
        return guidebot.record_feedback_if_given(answer_id, session, PLATFORM, value, comment)
    if not guidebot.handoffs.given_to(answer_id, PLATFORM, session):
        return False
    guidebot.record_feedback(answer_id, session, PLATFORM, value, comment)
    return True


class ConsoleMessenger:
    """`bot.handoff.Messenger` for the console: a reply waits in its hand-off for the member's page."""

    platform = PLATFORM

    async def post_handoff(self, place: str, handoff: Handoff) -> StaffPost | Failure:
        """Refused: the console is never the staff place (`GUIDEBOT_STAFF_CHANNEL` names Slack or Teams)."""
        log.error("handoff: the web console cannot be the staff place (hand-off %s)", handoff.id)
        return "refused"

    async def relay(self, handoff: Handoff, reply: StaffReply, *, number: int) -> Sent:
        """Delivered: the desk stored `reply` in the hand-off before relaying, and the member's page fetches it
        from `GET /api/handoff/{answer_id}`. Refused for a hand-off that names no console member."""
        if not isinstance(handoff.reply_to.get("member"), str):
            log.error("handoff: %s names no console member to relay to", handoff.id)
            return "refused"
        log.info("handoff: reply %s to %s waits for the member's page", number, handoff.id)
        return "delivered"

    async def show_state(self, handoff: Handoff) -> Sent:
        """Refused: there is no staff post in the console to update (the desk asks only the staff place's)."""
        return "refused"

    async def notify(self, handoff: Handoff, text: str) -> Sent:
        """Refused: staff notices go to the staff place, never to the console."""
        return "refused"


def reply_json(handoff: Handoff, reply: StaffReply, number: int) -> dict[str, Any]:
    return {
        "number": number,
        "answer_id": relay_answer_id(handoff.id, number),
        "who": reply.who,
        "text": reply.text,
        "at": reply.at.isoformat(),
    }


class ConsoleHandoffs:
    """`POST /api/handoff` and `GET /api/handoff/{answer_id}` over one core, and the console's messenger."""

    def __init__(self, guidebot: Guidebot, settings: Settings) -> None:
        self.guidebot = guidebot
        self.settings = settings
        self.by_address = RateLimiter(settings.rate_limit_per_address)
        self.by_session = RateLimiter(settings.rate_limit_per_session)
        self.messenger = ConsoleMessenger()

    def mount(self, app: web.Application) -> None:
        self.guidebot.messengers[PLATFORM] = self.messenger
        app.router.add_post("/api/handoff", self.hand_off)
        app.router.add_get("/api/handoff/{answer_id}", self.replies)
        throttle(app, "POST", "/api/handoff", self.wait)

    def wait(self, request: web.Request) -> float:
        """A budget per client address, then per console session (the page's polls spend it too)."""
        wait = self.by_address.take(client_address(request, self.settings.trusted_proxy_networks))
        session = known_session(request)
        if not wait and session is not None:
            wait = self.by_session.take(session)
        return wait

    @property
    def enabled(self) -> bool:
        return self.guidebot.handoffs.enabled

    async def hand_off(self, request: web.Request) -> web.Response:
        if not self.enabled:
            return _off()
        try:
            data = await read_json_object(request, MAX_HANDOFF_BYTES)
        except BadRequest as bad:
            return bad.response()
        answer_id, name = data.get("answer_id"), member_name(data.get("name"))
        if not isinstance(answer_id, str) or not ANSWER_ID.match(answer_id):
            return json_error(400, "invalid_answer_id", 'The body must have the "answer_id" of an answer.')
        if name is None:
            return json_error(400, "invalid_name", f'The "name" must be a string of at most {MAX_NAME_CHARS} characters.')
        session, new_session = session_id(request)
        if new_session:
            return _not_yours()
        ref = {"request_id": request[REQUEST_ID_KEY]}
        try:
            handoff, created = await self.guidebot.handoffs.hand_off_given(answer_id, user_id=session, member_name=name, member_platform=PLATFORM)
        except HandoffError as error:
            log.info("handoff refused (%s)", error.reason, extra=ref)
            return _off() if error.reason == "disabled" else _not_yours()
        except Exception as exc:  # noqa: BLE001 - the console's boundary: a 503 to the browser, the failure logged by name
            log.error("handoff failed", extra={**ref, "error": type(exc).__name__})
            return _unavailable("Your question couldn't be sent to the program team. Try again in a moment.")
        log.info("handoff", extra={**ref, "answer_id": answer_id, "handoff_id": handoff.id, "created": created})
        return web.json_response({"ok": True, "answer_id": answer_id, "state": handoff.state, "message": SENT_NOTE})

    async def replies(self, request: web.Request) -> web.Response:
        if not self.enabled:
            return _off()
        wait = self.wait(request)
        if wait:
            response = json_error(429, "too_many_requests", "Too many requests from this browser or address. Wait a moment and try again.")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        answer_id, session = request.match_info["answer_id"], known_session(request)
        if session is None or not ANSWER_ID.match(answer_id):
            return _not_yours()
        try:
            handoff = await self.guidebot.handoffs.handoff_given(answer_id, platform=PLATFORM, user_id=session)
        except Exception as exc:  # noqa: BLE001 - the console's boundary: a 503 to the browser, the failure logged by name
            log.error("handoff replies failed", extra={"request_id": request[REQUEST_ID_KEY], "error": type(exc).__name__})
            return _unavailable("The program team's reply can't be fetched right now.")
        if handoff is None:
            return _not_yours()
        body = {
            "answer_id": answer_id,
            "state": handoff.state,
            "replies": [reply_json(handoff, reply, n) for n, reply in enumerate(handoff.replies, start=1)],
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})


def _off() -> web.Response:
    return json_error(404, "not_found", "The program team can't be reached from this console.")


def _not_yours() -> web.Response:
    return json_error(404, "unknown_answer", "This browser was given no answer with that id, or did not send it to the program team.")


def _unavailable(message: str) -> web.Response:
    response = json_error(503, "unavailable", message)
    response.headers["Retry-After"] = "5"
    return response
