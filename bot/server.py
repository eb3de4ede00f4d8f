"""The one aiohttp server: health, metrics, the JSON API, document pages, and the adapters.

Routes owned here:

- `GET /healthz`: the process is alive (no I/O).
- `GET /readyz`: the index is loaded and the state store answers; 503 with a reason otherwise.
- `GET /metrics`: Prometheus text from `bot.metrics.REGISTRY`.
- `POST /api/ask`: `{"question": "…"}` → `Answer.to_json()` (as `guidebot ask --json`), or a
  command's `Summary.to_json()` (it has a `"kind"`); each passage / point also gets a `link`
  to its place in `/docs`.
- `POST /api/feedback`: `{"answer_id": "…", "value": "up" | "down"}` from the console's session, on an
  answer that session received.
- `GET /docs`, `GET /docs/{document_id}[?chunk=<chunk id>]`: the guide as readable pages.

Adapters (Slack, Teams, the web console) add their routes through the
`guidebot.adapters` entry point group. The server never logs what a member
typed: only ids, lengths and outcomes.

What one client can cost the others is bounded here: a request's body must
arrive within `body_timeout_seconds` (408), the JSON API is rate-limited per
console session and per client address (429 with `Retry-After`), malformed
input of any kind is a 4xx, and a client that hangs up is logged as 499.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import json
import logging
import math
import re
import secrets
import signal
import sys
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from bot.answer import Answer, Reply, Summary
from bot.docpages import STATIC, DocumentPage, build_pages, render_document, render_document_list, render_not_found
from bot.links import doc_path
from bot.metrics import ERRORS, REGISTRY
from bot.service import Guidebot, Inbound
from bot.settings import Settings
from index.persist import MANIFEST, IndexMissingError, live_target

log = logging.getLogger("guidebot.server")

PLATFORM = "console"
MAX_ASK_BYTES = 64 * 1024
"""Largest `/api/ask` or `/api/feedback` body; larger gets 413. A long paste fits; the core keeps its first
`max_question_chars` characters, as `guidebot ask` does."""
MAX_COMMENT_CHARS = 1000
INDEX_POLL_SECONDS = 2.0
SESSION_COOKIE = "guidebot_session"
SESSION_MAX_AGE = 180 * 24 * 3600
_SESSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_ANSWER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_JSON_TYPES = ("application/json",)
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_LIMITED_ROUTES = frozenset({"/api/ask", "/api/feedback"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
SERVER_HEADER = "guidebot"
"""What `Server:` says: no software name or version for a scanner to match against known flaws."""
CLIENT_GONE = 499
"""Logged (nginx's convention) for a client that hung up before its request was read."""

GUIDEBOT_KEY = web.AppKey("guidebot", Guidebot)
SETTINGS_KEY = web.AppKey("settings", Settings)
RELOAD_KEY = web.AppKey("reload", asyncio.Event)
_WATCHER_KEY = web.AppKey("index_watcher", asyncio.Task)
_WARMUP_KEY = web.AppKey("index_warmup", asyncio.Task)
_PAGES_KEY = web.AppKey("pages", dict)
_POLL_KEY = web.AppKey("index_poll_seconds", float)
ADAPTERS_KEY = web.AppKey("adapters", list[str])
_LIMITS_KEY = web.AppKey("rate_limits", tuple)
# aiohttp ≥ 3.12 has typed request keys; older versions take the plain string.
REQUEST_ID_KEY: Any = getattr(web, "RequestKey", lambda name, _type: name)("request_id", str)

HTTP_REQUESTS = Counter(
    "guidebot_http_requests",
    "HTTP requests, by method, route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "guidebot_http_request_seconds",
    "HTTP request latency, by method and route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


class AdapterError(RuntimeError):
    """An adapter could not be imported or mounted: the server does not start without it."""


# ---------------------------------------------------------------------------------------------
# JSON helpers


def json_error(status: int, error: str, message: str, **extra: Any) -> web.Response:
    body = {"error": error, "message": message, **extra}
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def parse_json(raw: bytes) -> Any:
    """A body as JSON, or `ValueError` for anything a client could send that is not usable JSON.

    Invalid UTF-8, malformed JSON, nesting deeper than the parser's recursion
    allows, and lone surrogates (`"\\ud800"`: valid JSON, but text no database
    or encoder takes) are all the client's mistake, never a 5xx.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid_utf8") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("too_deep") from None
    except ValueError:
        raise ValueError("malformed_json") from None
    if "\\u" in text and has_lone_surrogate(data):
        raise ValueError("invalid_text")
    return data


def has_lone_surrogate(data: Any) -> bool:
    """Whether any string (key or value) in parsed JSON holds a surrogate code point (iteratively: no depth limit)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_JSON_PROBLEMS = {
    "invalid_utf8": "The body must be UTF-8 encoded JSON.",
    "malformed_json": "The body is not valid JSON.",
    "too_deep": "The body's JSON is nested too deeply.",
    "invalid_text": "The body holds text that is not valid Unicode (a lone surrogate).",
}


class BadRequest(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(error)
        self.status, self.error, self.message = status, error, message

    def response(self) -> web.Response:
        return json_error(self.status, self.error, self.message)


async def read_json_object(request: web.Request, limit: int = MAX_ASK_BYTES) -> dict[str, Any]:
    """The body as a JSON object, or `BadRequest` (415 / 413 / 400) saying what is wrong."""
    if request.content_type not in _JSON_TYPES:
        raise BadRequest(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.")
    if request.content_length is not None and request.content_length > limit:
        raise BadRequest(413, "body_too_large", f"The body must be at most {limit} bytes.")
    body = await request.read()  # already read, within its time limit, by `read_body`
    if len(body) > limit:
        raise BadRequest(413, "body_too_large", f"The body must be at most {limit} bytes.")
    try:
        data = parse_json(body)
    except ValueError as problem:
        raise BadRequest(400, str(problem), _JSON_PROBLEMS[str(problem)]) from None
    if not isinstance(data, dict):
        raise BadRequest(400, "not_an_object", "The body must be a JSON object.")
    return data


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


# ---------------------------------------------------------------------------------------------
# Sessions (the console's anonymous member id)


def session_id(request: web.Request) -> tuple[str, bool]:
    """The browser's session id and whether it is new (then the response must set the cookie)."""
    value = request.cookies.get(SESSION_COOKIE, "")
    if _SESSION.match(value):
        return value, False
    return secrets.token_urlsafe(18), True


def set_session_cookie(response: web.StreamResponse, value: str, settings: Settings) -> None:
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    response.set_cookie(
        SESSION_COOKIE, value, max_age=SESSION_MAX_AGE, path="/", httponly=True, samesite="Lax", secure=secure
    )


# ---------------------------------------------------------------------------------------------
# Rate limits


class RateLimiter:
    """Token buckets, one per client key: `per_minute` requests a minute, in bursts of up to that many.

    In memory, per replica (a limit of N a minute on each of R replicas lets a
    client through R × N at most); the Ingress limit in `deploy/k8s` holds
    the whole. At most `max_keys` clients are remembered: the least recently
    seen are forgotten first, so made-up session ids cannot grow it without end
    (and each made-up session still counts against its address).
    """

    def __init__(self, per_minute: int, *, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Spend one request for `key`: 0 when allowed, else the seconds until one would be."""
        if self.capacity <= 0:
            return 0.0
        now = self.clock()
        tokens, then = self.buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self.buckets[key] = (tokens, now)
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return wait


def client_address(request: web.Request, trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The client's address: the TCP peer, or, from a trusted proxy, the last `X-Forwarded-For` hop it did not add."""
    peer = request.remote or "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", []) for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # not an address: the proxy did not write it, so it proves nothing
    return peer


def _within(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _too_many(wait: float) -> web.Response:
    response = json_error(429, "too_many_requests", "Too many requests from this browser or address. Wait a moment and try again.")
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


@web.middleware
async def rate_limit(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """`/api/ask` and `/api/feedback`: a budget per client address and per console session (429 past it)."""
    if request.path not in _LIMITED_ROUTES or request.method != "POST":
        return await handler(request)
    by_address, by_session = request.app[_LIMITS_KEY]
    wait = by_address.take(client_address(request, request.app[SETTINGS_KEY].trusted_proxy_networks))
    session = request.cookies.get(SESSION_COOKIE, "")
    if not wait and _SESSION.match(session):
        wait = by_session.take(session)
    if wait:
        log.info("rate limited", extra={"request_id": request.get(REQUEST_ID_KEY), "route": request.path, "retry_after": round(wait, 1)})
        return _too_many(wait)
    return await handler(request)


# ---------------------------------------------------------------------------------------------
# Request bodies: read within a time limit


class ClientGone(Exception):
    """The client hung up before its request's body was read."""


@web.middleware
async def read_body(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Read every request body before its handler runs, within `body_timeout_seconds` (else 408).

    A client sending a byte every few seconds would otherwise hold its
    connection and handler for as long as it liked. The body is kept by
    aiohttp, so handlers' `request.read()` returns it at once.
    """
    if request.method not in _BODY_METHODS or not request.body_exists:
        return await handler(request)
    try:
        async with asyncio.timeout(request.app[SETTINGS_KEY].body_timeout_seconds):
            await request.read()
    except TimeoutError:
        log.info("request body too slow", extra={"request_id": request.get(REQUEST_ID_KEY), "route": _route_name(request)})
        response = json_error(408, "body_timeout", "The request body took too long to arrive.")
        response.force_close()
        return response
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "body_too_large", f"The body must be at most {request.client_max_size} bytes.")
    except ConnectionResetError:
        raise ClientGone() from None
    return await handler(request)


# ---------------------------------------------------------------------------------------------
# Middleware: request log, metrics, errors


def _route_name(request: web.Request) -> str:
    """The route's pattern (`/docs/{document_id}`), never the raw path: bounded label values, no ids."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    if resource is None:
        return "unmatched"
    return resource.canonical


@web.middleware
async def observe(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    request[REQUEST_ID_KEY] = request_id
    route = _route_name(request)
    status = 500
    try:
        response = await handler(request)
        status = response.status
    except web.HTTPException as exc:
        status = exc.status
        if request.path.startswith("/api/") and status >= 400:
            response = json_error(status, _slug(exc.reason), exc.reason)
            for header in ("Allow",):
                if header in exc.headers:
                    response.headers[header] = exc.headers[header]
        else:
            raise
    except asyncio.CancelledError:
        status = CLIENT_GONE
        raise
    except ClientGone:
        status = CLIENT_GONE
        response = web.Response(status=CLIENT_GONE)  # nobody is there to read it
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a 500, logged with where (never what was sent)
        status = 500
        ERRORS.labels("http").inc()
        log.error(
            "unhandled error",
            extra={"request_id": request_id, "route": route, "error": type(exc).__name__,
                   "trace": "".join(traceback.format_tb(exc.__traceback__))},
        )
        response = json_error(500, "internal_error", "Something went wrong on our side.", request_id=request_id)
    finally:
        elapsed = time.perf_counter() - started
        HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
        HTTP_SECONDS.labels(request.method, route).observe(elapsed)
        if route in _QUIET_ROUTES:  # probes and scrapes every few seconds: not worth a line each
            level = logging.DEBUG
        else:
            level = logging.WARNING if status >= 500 else logging.INFO
        log.log(
            level,
            "request",
            extra={"request_id": request_id, "method": request.method, "route": route, "status": status,
                   "ms": round(elapsed * 1000, 1)},
        )
    response.headers["X-Request-ID"] = request_id
    return response


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_") or "error"


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_HEADER
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html" or request.path == "/" or request.path.startswith("/docs"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")


# ---------------------------------------------------------------------------------------------
# Handlers


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    guidebot = request.app[GUIDEBOT_KEY]
    warmup = request.app.get(_WARMUP_KEY)
    if warmup is not None and not warmup.done():
        return web.json_response({"status": "loading", "reason": "the index and the model are loading"}, status=503)
    try:
        engine = await asyncio.to_thread(guidebot.engines.engine)
    except IndexMissingError as exc:
        return web.json_response({"status": "not_ready", "reason": f"index: {exc}"}, status=503)
    except Exception as exc:  # noqa: BLE001 - readiness reports any load failure as not ready, logged by name
        log.warning("readiness: index failed to load", extra={"error": type(exc).__name__})
        return web.json_response({"status": "not_ready", "reason": f"index: {type(exc).__name__}"}, status=503)
    try:
        store_ok = await asyncio.to_thread(guidebot.store.ping)
    except Exception as exc:  # noqa: BLE001 - readiness reports any store failure as not ready, logged by name
        log.warning("readiness: store ping failed", extra={"error": type(exc).__name__})
        store_ok = False
    if not store_ok:
        return web.json_response({"status": "not_ready", "reason": "state store unreachable"}, status=503)
    manifest = engine.index.manifest
    return web.json_response(
        {
            "status": "ready",
            "index": {"documents": manifest.documents, "chunks": manifest.chunks, "built_at": manifest.built_at},
            "store": "ok",
        }
    )


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def ask(request: web.Request) -> web.Response:
    guidebot = request.app[GUIDEBOT_KEY]
    settings = request.app[SETTINGS_KEY]
    try:
        data = await read_json_object(request)
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
        reply = await guidebot.respond_async(inbound)
    except IndexMissingError:
        log.warning("ask: no index", extra={"request_id": request[REQUEST_ID_KEY]})
        return json_error(503, "not_ready", "The guide is not indexed yet. Try again in a moment.")
    except Exception as exc:  # noqa: BLE001 - the console's boundary: a 503 to the browser, the failure logged with its trace
        log.error(
            "ask failed",
            extra={"request_id": request[REQUEST_ID_KEY], "error": type(exc).__name__,
                   "trace": "".join(traceback.format_tb(exc.__traceback__)), "question_chars": len(question)},
        )
        response = json_error(503, "unavailable", "The guide can't be searched right now. Try again in a moment.")
        response.headers["Retry-After"] = "5"
        return response
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
    response = web.json_response(reply_json(reply), dumps=_dumps)
    if new_session:
        set_session_cookie(response, session, settings)
    return response


async def feedback(request: web.Request) -> web.Response:
    guidebot = request.app[GUIDEBOT_KEY]
    try:
        data = await read_json_object(request)
    except BadRequest as bad:
        return bad.response()
    answer_id, value, comment = data.get("answer_id"), data.get("value"), data.get("comment")
    if not isinstance(answer_id, str) or not _ANSWER_ID.match(answer_id):
        return json_error(400, "invalid_answer_id", 'The body must have the "answer_id" of an answer.')
    if value not in ("up", "down"):
        return json_error(400, "invalid_value", 'The "value" must be "up" or "down".')
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS):
        return json_error(400, "invalid_comment", f'The "comment" must be a string of at most {MAX_COMMENT_CHARS} characters.')
    session, new_session = session_id(request)
    if new_session:
        return _not_received()
    try:
        recorded = await asyncio.to_thread(_vote, guidebot, answer_id, session, value, comment or None)
    except Exception as exc:  # noqa: BLE001 - the console's boundary: a 503 to the browser, the failure logged by name
        log.error("feedback failed", extra={"request_id": request[REQUEST_ID_KEY], "error": type(exc).__name__})
        response = json_error(503, "unavailable", "Your feedback couldn't be saved. Try again in a moment.")
        response.headers["Retry-After"] = "5"
        return response
    if not recorded:
        log.info("feedback refused: not an answer this session received", extra={"request_id": request[REQUEST_ID_KEY]})
        return _not_received()
    log.info("feedback", extra={"request_id": request[REQUEST_ID_KEY], "answer_id": answer_id, "value": value})
    return web.json_response({"ok": True, "answer_id": answer_id, "value": value})


def _vote(guidebot: Guidebot, answer_id: str, session: str, value: str, comment: str | None) -> bool:
    """Record the vote if this session was given the answer (the question log says who was): one vote per member."""
    store = guidebot.store
    given = store.answer(answer_id)
    if given is None or given.platform != PLATFORM or given.user_hash != store.member_hash(PLATFORM, session):
        return False
    guidebot.record_feedback(answer_id, session, PLATFORM, value, comment)
    return True


def _not_received() -> web.Response:
    return json_error(404, "unknown_answer", "This browser was given no answer with that id.")


async def _pages(request: web.Request) -> dict[str, DocumentPage] | None:
    """Document pages of the live index, built once per loaded index."""
    guidebot = request.app[GUIDEBOT_KEY]
    try:
        engine = await asyncio.to_thread(guidebot.engines.engine)
    except Exception:  # noqa: BLE001 - no loadable index means no pages (a 503); _load_engine and readiness log why
        return None
    cache = request.app[_PAGES_KEY]
    key = id(engine.index)
    if cache.get("key") != key:
        cache["key"], cache["pages"] = key, build_pages(engine.index.chunks)
    return cache["pages"]


async def document_list(request: web.Request) -> web.Response:
    pages = await _pages(request)
    if pages is None:
        return web.Response(text=render_document_list([]), content_type="text/html", status=503)
    return web.Response(text=render_document_list(list(pages.values())), content_type="text/html")


async def document(request: web.Request) -> web.Response:
    document_id = request.match_info["document_id"]
    pages = await _pages(request)
    if pages is None:
        return web.Response(text=render_document_list([]), content_type="text/html", status=503)
    page = pages.get(document_id)
    if page is None:
        return web.Response(text=render_not_found(document_id), content_type="text/html", status=404)
    return web.Response(text=render_document(page, request.query.get("chunk")), content_type="text/html")


# ---------------------------------------------------------------------------------------------
# Hot reload: poll the manifest, and SIGHUP


def _index_stamp(settings: Settings) -> tuple[str, float] | None:
    try:
        target = live_target(settings.index_dir)
        return str(target), (target / MANIFEST).stat().st_mtime
    except OSError:
        return None


async def _load_engine(guidebot: Guidebot, why: str) -> bool:
    try:
        engine = await asyncio.to_thread(guidebot.engines.engine)
    except Exception as exc:  # noqa: BLE001 - a bad index must not stop the server: it stays not ready, the reason logged
        reason = str(exc) if isinstance(exc, IndexMissingError) else type(exc).__name__
        log.warning("index not loaded", extra={"why": why, "reason": reason})
        return False
    log.info("index ready", extra={"why": why, "index": str(engine.index.path), "chunks": len(engine.index.chunks)})
    _freeze_heap(reloaded=why != "start-up")
    return True


def _freeze_heap(reloaded: bool) -> None:
    """Keep the loaded model, index and libraries out of the garbage collector's full passes.

    A full collection walks every tracked object: with the index and its
    libraries loaded that took ~180 ms, holding the GIL, and was the slowest
    ack of a busy minute. Frozen objects are never walked (nor freed, so a
    reload first thaws and collects what the old index left behind).
    """
    if reloaded:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


async def _watch_index(app: web.Application, poll_seconds: float) -> None:
    """Load a newly published index in the background, so no request waits for it."""
    guidebot, settings, reload = app[GUIDEBOT_KEY], app[SETTINGS_KEY], app[RELOAD_KEY]
    await app[_WARMUP_KEY]
    seen = _index_stamp(settings)
    while True:
        try:
            await asyncio.wait_for(reload.wait(), timeout=poll_seconds)
        except TimeoutError:
            pass
        forced = reload.is_set()
        reload.clear()
        stamp = _index_stamp(settings)
        if not forced and (stamp is None or stamp == seen):
            continue
        guidebot.engines.request_reload()
        if await _load_engine(guidebot, "signal" if forced else "manifest changed"):
            seen = stamp


async def _start_background(app: web.Application) -> None:
    app[_WARMUP_KEY] = asyncio.create_task(_load_engine(app[GUIDEBOT_KEY], "start-up"))
    app[_WATCHER_KEY] = asyncio.create_task(_watch_index(app, app[_POLL_KEY]))


async def _stop_background(app: web.Application) -> None:
    for key in (_WATCHER_KEY, _WARMUP_KEY):
        task = app.get(key)
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # noqa: BLE001 - shutting down: whatever the task raised is logged, the rest still stops
                log.warning("background task failed while stopping", extra={"error": type(exc).__name__})


def request_reload(app: web.Application) -> None:
    """What SIGHUP does: reload the index now instead of at the next poll."""
    app[GUIDEBOT_KEY].engines.request_reload()
    app[RELOAD_KEY].set()


async def _install_sighup(app: web.Application) -> None:
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, request_reload, app)
    except (NotImplementedError, RuntimeError, AttributeError):  # pragma: no cover - Windows / not main thread
        log.info("SIGHUP reload unavailable on this platform")


BLOCKING_THREADS = 64
"""Threads behind `asyncio.to_thread` (the adapters' database calls). Under load these wait for SQLite's
turn, so with the default (CPUs + 4) a 2 ms database write that must precede a Slack ack queued behind
them. (Answers no longer hold one while they wait for their batch: see `Guidebot.respond_async`.)"""

GIL_SWITCH_SECONDS = 0.001
"""How long a thread may keep the GIL while another waits for it (Python's default: 5 ms). The event loop
and the database threads give it up at every socket and SQLite call, then wait for it behind the answer
workers' retrieval (pure Python); a Slack ack takes several such hand-offs, so under load the default
interval cost it tens of milliseconds (ack p99 ~100 → ~85 ms with 50 members at once on 2 cores)."""


async def _use_thread_pool(app: web.Application) -> None:
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=BLOCKING_THREADS, thread_name_prefix="guidebot-blocking")
    )


async def _close_store(app: web.Application) -> None:
    await asyncio.to_thread(app[GUIDEBOT_KEY].store.close)


# ---------------------------------------------------------------------------------------------
# Adapters


def mount_adapters(app: web.Application, guidebot: Guidebot, settings: Settings) -> list[str]:
    """Mount every `guidebot.adapters` entry point; any that fails stops the start-up, loudly."""
    mounted: list[str] = []
    for entry in sorted(entry_points(group="guidebot.adapters"), key=lambda e: e.name):
        try:
            mount = entry.load()
        except Exception as exc:  # an adapter's import may fail any way; re-raised as AdapterError with its cause
            raise AdapterError(
                f"adapter {entry.name!r} ({entry.value}) failed to import: {type(exc).__name__}: {exc}. "
                "Fix it, or uninstall it and run `pip install -e . --no-deps` again."
            ) from exc
        try:
            mount(app, guidebot, settings)
        except Exception as exc:  # an adapter's mount may fail any way; re-raised as AdapterError with its cause
            raise AdapterError(f"adapter {entry.name!r} ({entry.value}) failed to mount: {type(exc).__name__}: {exc}") from exc
        mounted.append(entry.name)
    return mounted


# ---------------------------------------------------------------------------------------------
# The application


def create_app(
    settings: Settings,
    guidebot: Guidebot,
    *,
    adapters: bool = True,
    index_poll_seconds: float = INDEX_POLL_SECONDS,
) -> web.Application:
    """The whole server as one aiohttp application; `run_server` runs it, tests drive it in-process."""
    app = web.Application(middlewares=[observe, rate_limit, read_body])
    app[GUIDEBOT_KEY] = guidebot
    app[SETTINGS_KEY] = settings
    app[RELOAD_KEY] = asyncio.Event()
    app[_PAGES_KEY] = {}
    app[_POLL_KEY] = index_poll_seconds
    app[_LIMITS_KEY] = (RateLimiter(settings.rate_limit_per_address), RateLimiter(settings.rate_limit_per_session))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/ask", ask)
    app.router.add_post("/api/feedback", feedback)
    app.router.add_get("/docs", document_list)
    app.router.add_get("/docs/{document_id}", document)
    app.router.add_static("/assets/", STATIC, name="assets")
    app.on_response_prepare.append(_security_headers)
    app.on_startup.append(_start_background)
    app.on_cleanup.append(_stop_background)
    app.on_cleanup.append(_close_store)
    if adapters:
        app[ADAPTERS_KEY] = mount_adapters(app, guidebot, settings)
    return app


def server_urls(settings: Settings, host: str, port: int) -> dict[str, str]:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    urls = {"console": f"{base}/", "docs": f"{base}/docs", "health": f"{base}/healthz", "metrics": f"{base}/metrics"}
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if parts.scheme and parts.netloc:
            urls["public"] = settings.public_url.rstrip("/") + "/"
    return urls


def run_server(settings: Settings, host: str, port: int, *, embedder: Any = None) -> None:
    """Build the core, mount the adapters and serve until SIGINT / SIGTERM (SIGHUP reloads the index)."""
    from bot.wiring import build_guidebot

    settings = settings.model_copy(update={"host": host, "port": port})
    sys.setswitchinterval(GIL_SWITCH_SECONDS)

    guidebot = build_guidebot(settings, embedder)
    app = create_app(settings, guidebot)
    app.on_startup.insert(0, _use_thread_pool)
    app.on_startup.append(_install_sighup)
    urls = server_urls(settings, host, port)

    async def announce(app: web.Application) -> None:
        mounted = app.get(ADAPTERS_KEY)
        log.info(
            "guidebot serving",
            extra={"host": host, "port": port, "adapters": ",".join(mounted or []), **urls},
        )

    app.on_startup.append(announce)
    web.run_app(app, host=host, port=port, access_log=None, print=None, shutdown_timeout=10, handle_signals=True)
