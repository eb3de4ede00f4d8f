"""The console's JSON API, for the page at `/` (and anyone with a browser's tools).

- `POST /api/ask`: `{"question": "…"}` → `Answer.to_json()` (as `guidebot ask --json`), or a
  command's `Summary.to_json()` (it has a `"kind"`); each passage / point also gets a `link`
  to its place in `/docs`.
- `POST /api/feedback`: `{"answer_id": "…", "value": "up" | "down"}` from the console's session, on an
  answer that session received (or a program team reply to its own hand-off).

With hand-offs on, an answer that may go to the program team has `"handoff": true`: a refusal offers
"Ask the program team" at once, an answer after a 👎 (`adapters.console.handoff`).

Both are rate-limited per client address and per console session (429 with
`Retry-After`). Only ids, lengths and outcomes are logged, never what a member typed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback
from typing import Any

from aiohttp import web

from adapters.console.handoff import PLATFORM, RELAY_ID, offers_team, record_vote
from adapters.console.session import known_session, session_id, set_session_cookie
from bot.answer import Answer, Reply, Summary
from bot.http import REQUEST_ID_KEY, BadRequest, RateLimiter, client_address, dumps, json_error, read_json_object, throttle
from bot.links import doc_path
from bot.service import Guidebot, Inbound
from bot.settings import Settings
from index.persist import IndexMissingError

log = logging.getLogger("guidebot.console")

MAX_ASK_BYTES = 64 * 1024
"""Largest `/api/ask` or `/api/feedback` body; larger gets 413. A long paste fits; the core keeps its first
`max_question_chars` characters, as `guidebot ask` does."""
MAX_COMMENT_CHARS = 1000
_ANSWER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def reply_json(reply: Reply) -> dict[str, Any]:
    """`Answer.to_json()` / `Summary.to_json()`, plus a server-relative `link` on each passage or point."""
    data = reply.to_json()
    if isinstance(reply, Answer):
        for out, passage in zip(data["passages"], reply.passages, strict=True):
            out["link"] = doc_path(passage.source, passage.chunk_id)
    elif isinstance(reply, Summary):
        for out, point in zip(data["points"], reply.points, strict=True):
            out["link"] = doc_path(point.source, point.chunk_id or None)
    return data


class ConsoleApi:
    """`/api/ask` and `/api/feedback` over one core."""

    def __init__(self, guidebot: Guidebot, settings: Settings) -> None:
        self.guidebot = guidebot
        self.settings = settings
        self.by_address = RateLimiter(settings.rate_limit_per_address)
        self.by_session = RateLimiter(settings.rate_limit_per_session)

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/ask", self.ask)
        app.router.add_post("/api/feedback", self.feedback)
        for path in ("/api/ask", "/api/feedback"):
            throttle(app, "POST", path, self.wait)

    def wait(self, request: web.Request) -> float:
        """A budget per client address, then per console session: each made-up session still costs its address."""
        wait = self.by_address.take(client_address(request, self.settings.trusted_proxy_networks))
        session = known_session(request)
        if not wait and session is not None:
            wait = self.by_session.take(session)
        return wait

    async def ask(self, request: web.Request) -> web.Response:
        try:
            data = await read_json_object(request, MAX_ASK_BYTES)
        except BadRequest as bad:
            return bad.response()
        question = data.get("question")
        if "question" not in data:
            return json_error(400, "missing_question", 'The body must have a "question".')
        if not isinstance(question, str):
            return json_error(400, "invalid_question", 'The "question" must be a string.')
        session, new_session = session_id(request)
        inbound = Inbound(
            text=question, platform=PLATFORM, user_id=session, conversation_id=None, thread_key=f"{PLATFORM}:{session}"
        )
        started = time.perf_counter()
        try:
            reply = await self.guidebot.respond_async(inbound)
        except IndexMissingError:
            log.warning("ask: no index", extra={"request_id": request[REQUEST_ID_KEY]})
            return json_error(503, "not_ready", "The guide is not indexed yet. Try again in a moment.")
        except Exception as exc:  # noqa: BLE001 - the console's boundary: a 503 to the browser, the failure logged with its trace
            log.error(
                "ask failed",
                extra={"request_id": request[REQUEST_ID_KEY], "error": type(exc).__name__,
                       "trace": "".join(traceback.format_tb(exc.__traceback__)), "question_chars": len(question)},
            )
            return _unavailable("The guide can't be searched right now. Try again in a moment.")
        if isinstance(reply, Answer):
            outcome = "answered" if reply.answered else f"abstained:{reply.reason}"
            ids = {"answer_id": reply.answer_id, "passages": len(reply.passages)}
        else:
            outcome, ids = f"command:{reply.kind}", {"points": len(reply.points)}
        log.info(
            "ask",
            extra={"request_id": request[REQUEST_ID_KEY], "outcome": outcome, "question_chars": len(question),
                   "ms": round((time.perf_counter() - started) * 1000, 1), **ids},
        )
        data = reply_json(reply)
        if self.guidebot.handoffs.enabled and offers_team(reply):
            data["handoff"] = True
        response = web.json_response(data, dumps=dumps)
        if new_session:
            set_session_cookie(response, session, self.settings)
        return response

    async def feedback(self, request: web.Request) -> web.Response:
        try:
            data = await read_json_object(request, MAX_ASK_BYTES)
        except BadRequest as bad:
            return bad.response()
        answer_id, value, comment = data.get("answer_id"), data.get("value"), data.get("comment")
        if not isinstance(answer_id, str) or not (_ANSWER_ID.match(answer_id) or RELAY_ID.match(answer_id)):
            return json_error(400, "invalid_answer_id", 'The body must have the "answer_id" of an answer.')
        if value not in ("up", "down"):
            return json_error(400, "invalid_value", 'The "value" must be "up" or "down".')
        if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS):
            return json_error(400, "invalid_comment", f'The "comment" must be a string of at most {MAX_COMMENT_CHARS} characters.')
        session, new_session = session_id(request)
        if new_session:
            return _not_received()
        try:
            recorded = await asyncio.to_thread(record_vote, self.guidebot, answer_id, session, value, comment or None)
        except Exception as exc:  # noqa: BLE001 - the console's boundary: a 503 to the browser, the failure logged by name
            log.error("feedback failed", extra={"request_id": request[REQUEST_ID_KEY], "error": type(exc).__name__})
            return _unavailable("Your feedback couldn't be saved. Try again in a moment.")
        if not recorded:
            log.info("feedback refused: not an answer this session received", extra={"request_id": request[REQUEST_ID_KEY]})
            return _not_received()
        log.info("feedback", extra={"request_id": request[REQUEST_ID_KEY], "answer_id": answer_id, "value": value})
        return web.json_response({"ok": True, "answer_id": answer_id, "value": value})


def _unavailable(message: str) -> web.Response:
    response = json_error(503, "unavailable", message)
    response.headers["Retry-After"] = "5"
    return response


def _not_received() -> web.Response:
    return json_error(404, "unknown_answer", "This browser was given no answer with that id.")
