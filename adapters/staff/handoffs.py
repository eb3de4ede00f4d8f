"""The dashboard's Hand-offs page: the program team's queue, answered from the web.

- `GET /staff/handoffs?state=open|answered|published` (default open): the hand-offs of that state (open ones
  oldest first, the others newest first, at most `QUEUE_LIMIT`), each with the redacted question, the
  member's name and platform, what guidebot said, when, and the replies so far.
- `GET /staff/api/handoffs?state=…`: the same as JSON.
- `POST /staff/handoffs/{id}/reply` (form: `text`, `key`): the reply goes to the member through the same
  core path as a Slack or Teams staff reply (`HandoffDesk.staff_replied_to`: durable, relayed as "From the
  program team:", the staff post marked answered), with the staff member's e-mail as who replied. The form's
  `key` makes a resent form one reply.
- `POST /staff/handoffs/{id}/publish` (form: `title`): the replies into the guide (`HandoffDesk.publish`),
  as "Add to the guide" in Slack and `guidebot handoffs publish` do.

Both changes pass the dashboard's guard (sign-in, same site, CSRF token) and are written to the audit log
(who, what, the hand-off's id; never its text). After either, the browser goes back to the queue (303).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from typing import TYPE_CHECKING, cast

from aiohttp import web

from adapters.staff.handoff_pages import STATES, handoff_json, handoffs_page
from adapters.staff.pages import not_found_page
from adapters.staff.unanswered import html_response
from bot.handoff import HandoffError, HandoffState

if TYPE_CHECKING:
    from adapters.staff import StaffPages

log = logging.getLogger("guidebot.staff")

QUEUE_LIMIT = 200
"""The most hand-offs one page shows."""
HANDOFF_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def queue_state(value: str | None) -> HandoffState:
    """`?state=` as one of the queue's states; anything else is `open`."""
    return cast(HandoffState, value) if value in dict(STATES) else "open"


class HandoffRoutes:
    """The Hand-offs page, its JSON and its two forms, behind the dashboard's guard."""

    def __init__(self, pages: StaffPages) -> None:
        self.pages = pages
        self.desk = pages.guidebot.handoffs

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/staff/handoffs", self.pages.guard(self.page))
        app.router.add_get("/staff/api/handoffs", self.pages.guard(self.json))
        app.router.add_post("/staff/handoffs/{handoff_id}/reply", self.pages.guard(self.reply))
        app.router.add_post("/staff/handoffs/{handoff_id}/publish", self.pages.guard(self.publish))

    async def page(self, request: web.Request) -> web.StreamResponse:
        member = self.pages.member(request)
        state = queue_state(request.query.get("state"))
        queue, counts = await asyncio.to_thread(self.desk.queue, state, QUEUE_LIMIT)
        page = handoffs_page(
            state,
            queue,
            counts,
            member.email,
            member.csrf,
            enabled=self.desk.enabled,
            notice=request.query.get("done"),
            problem=request.query.get("problem"),
        )
        return html_response(page)

    async def json(self, request: web.Request) -> web.StreamResponse:
        state = queue_state(request.query.get("state"))
        queue, counts = await asyncio.to_thread(self.desk.queue, state, QUEUE_LIMIT)
        body = {"state": state, "counts": {key: counts.get(key, 0) for key, _ in STATES}, "handoffs": [handoff_json(h) for h in queue]}
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def reply(self, request: web.Request) -> web.StreamResponse:
        member = self.pages.member(request)
        handoff_id = request.match_info["handoff_id"]
        form = await request.post()
        text = str(form.get("text", "")).strip()
        if not HANDOFF_ID.match(handoff_id):
            return self._not_found(request)
        if not text:
            raise web.HTTPSeeOther(f"/staff/handoffs?problem=empty#handoff-{handoff_id}")
        offered = str(form.get("key", ""))
        key = offered if FORM_KEY.match(offered) else secrets.token_urlsafe(12)
        handoff = await self.desk.staff_replied_to(handoff_id, reply_key=f"web:{handoff_id}:{key}", who=member.email, text=text)
        if handoff is None:
            return self._not_found(request)
        await asyncio.to_thread(self.pages.desk.record, member.email, "hand-off reply", handoff_id)
        state = "published" if handoff.state == "published" else "answered"
        raise web.HTTPSeeOther(f"/staff/handoffs?state={state}&done=replied#handoff-{handoff_id}")

    async def publish(self, request: web.Request) -> web.StreamResponse:
        member = self.pages.member(request)
        handoff_id = request.match_info["handoff_id"]
        form = await request.post()
        title = str(form.get("title", "")).strip() or None
        if not HANDOFF_ID.match(handoff_id):
            return self._not_found(request)
        try:
            await self.desk.publish(handoff_id, title)
        except HandoffError as error:
            if error.reason == "not_found":
                return self._not_found(request)
            state = "open" if error.reason == "no_reply" else "answered"
            raise web.HTTPSeeOther(f"/staff/handoffs?state={state}&problem={error.reason}#handoff-{handoff_id}") from None
        await asyncio.to_thread(self.pages.desk.record, member.email, "hand-off added to the guide", handoff_id)
        raise web.HTTPSeeOther(f"/staff/handoffs?state=published&done=published#handoff-{handoff_id}")

    def _not_found(self, request: web.Request) -> web.Response:
        member = self.pages.member(request)
        return html_response(not_found_page(member.email, member.csrf), status=404)
