"""The one aiohttp server: health, metrics, the JSON API, document pages, and the adapters.

Routes owned here:

- `GET /healthz`: the process is alive (no I/O).
- `GET /readyz`: the index is loaded and the state store answers; 503 with a reason otherwise.
- `GET /metrics`: Prometheus text from `bot.metrics.REGISTRY`.
- `POST /api/ask`: `{"question": "…"}` → `Answer.to_json()` (as `guidebot ask --json`), or a
  command's `Summary.to_json()` (it has a `"kind"`); each passage / point also gets a `link`
  to its place in `/docs`.
- `POST /api/feedback`: `{"answer_id": "…", "value": "up" | "down"}` from the console's session.
- `GET /docs`, `GET /docs/{document_id}[?chunk=<chunk id>]`: the guide as readable pages.

Adapters (Slack, Teams, the web console) add their routes through the
`guidebot.adapters` entry point group. The server never logs what a member
typed: only ids, lengths and outcomes.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
import secrets
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
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

GUIDEBOT_KEY = web.AppKey("guidebot", Guidebot)
SETTINGS_KEY = web.AppKey("settings", Settings)
RELOAD_KEY = web.AppKey("reload", asyncio.Event)
_WATCHER_KEY = web.AppKey("index_watcher", asyncio.Task)
_WARMUP_KEY = web.AppKey("index_warmup", asyncio.Task)
_PAGES_KEY = web.AppKey("pages", dict)
_POLL_KEY = web.AppKey("index_poll_seconds", float)
ADAPTERS_KEY = web.AppKey("adapters", list)
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
    body = bytearray()
    while chunk := await request.content.read(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, "body_too_large", f"The body must be at most {limit} bytes.")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "invalid_utf8", "The body must be UTF-8 encoded JSON.") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise BadRequest(400, "malformed_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "not_an_object", "The body must be a JSON object.")
    return data


def reply_json(reply: Reply) -> dict[str, Any]:
    """`Answer.to_json()` / `Summary.to_json()`, plus a server-relative `link` on each passage or point."""
    data = reply.to_json()
    if isinstance(reply, Answer):
        for out, passage in zip(data["passages"], reply.passages):
            out["link"] = doc_path(passage.source, passage.chunk_id)
    elif isinstance(reply, Summary):
        for out, point in zip(data["points"], reply.points):
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
        status = 499
        raise
    except Exception as exc:  # the last line of defence: log where, never what was sent
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
    except Exception as exc:
        log.warning("readiness: index failed to load", extra={"error": type(exc).__name__})
        return web.json_response({"status": "not_ready", "reason": f"index: {type(exc).__name__}"}, status=503)
    try:
        store_ok = await asyncio.to_thread(guidebot.store.ping)
    except Exception as exc:
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
    except Exception as exc:
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
    settings = request.app[SETTINGS_KEY]
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
    try:
        await asyncio.to_thread(guidebot.record_feedback, answer_id, session, PLATFORM, value, comment or None)
    except Exception as exc:
        log.error("feedback failed", extra={"request_id": request[REQUEST_ID_KEY], "error": type(exc).__name__})
        response = json_error(503, "unavailable", "Your feedback couldn't be saved. Try again in a moment.")
        response.headers["Retry-After"] = "5"
        return response
    log.info("feedback", extra={"request_id": request[REQUEST_ID_KEY], "answer_id": answer_id, "value": value})
    response = web.json_response({"ok": True, "answer_id": answer_id, "value": value})
    if new_session:
        set_session_cookie(response, session, settings)
    return response


async def _pages(request: web.Request) -> dict[str, DocumentPage] | None:
    """Document pages of the live index, built once per loaded index."""
    guidebot = request.app[GUIDEBOT_KEY]
    try:
        engine = await asyncio.to_thread(guidebot.engines.engine)
    except Exception:
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
    except Exception as exc:
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
            except (asyncio.CancelledError, Exception):
                pass


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
        except Exception as exc:
            raise AdapterError(
                f"adapter {entry.name!r} ({entry.value}) failed to import: {type(exc).__name__}: {exc}. "
                "Fix it, or uninstall it and run `pip install -e . --no-deps` again."
            ) from exc
        try:
            mount(app, guidebot, settings)
        except Exception as exc:
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
    app = web.Application(middlewares=[observe])
    app[GUIDEBOT_KEY] = guidebot
    app[SETTINGS_KEY] = settings
    app[RELOAD_KEY] = asyncio.Event()
    app[_PAGES_KEY] = {}
    app[_POLL_KEY] = index_poll_seconds
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
        log.info(
            "guidebot serving",
            extra={"host": host, "port": port, "adapters": ",".join(app.get(ADAPTERS_KEY, [])), **urls},
        )

    app.on_startup.append(announce)
    web.run_app(app, host=host, port=port, access_log=None, print=None, shutdown_timeout=10, handle_signals=True)
