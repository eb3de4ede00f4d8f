"""The one aiohttp server: health, metrics, document pages, the index's hot reload, and the adapters.

Routes owned here:

- `GET /healthz`: the process is alive (no I/O).
- `GET /readyz`: the index is loaded and the state store answers; 503 with a reason otherwise.
- `GET /metrics`: Prometheus text from `bot.metrics.REGISTRY`.
- `GET /docs`, `GET /docs/{document_id}[?chunk=<chunk id>]`: the guide as readable pages.

Adapters (Slack, Teams, the web console with its `/api/ask` and
`/api/feedback`) add their routes through the `guidebot.adapters` entry point
group. Every request goes through `bot.http`'s middlewares (request log,
metrics, rate limits, bodies read within a time limit); the server never logs
what a member typed: only ids, lengths and outcomes.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.docpages import STATIC, DocumentPage, build_pages, render_document, render_document_list, render_not_found
from bot.http import SETTINGS_KEY, plumbed_app
from bot.metrics import REGISTRY
from bot.service import Guidebot
from bot.settings import Settings
from index.persist import MANIFEST, IndexMissingError, live_target

log = logging.getLogger("guidebot.server")

INDEX_POLL_SECONDS = 2.0
GUIDEBOT_KEY = web.AppKey("guidebot", Guidebot)
RELOAD_KEY = web.AppKey("reload", asyncio.Event)
_WATCHER_KEY = web.AppKey("index_watcher", asyncio.Task)
_WARMUP_KEY = web.AppKey("index_warmup", asyncio.Task)
_PAGES_KEY = web.AppKey("pages", dict)
_POLL_KEY = web.AppKey("index_poll_seconds", float)
ADAPTERS_KEY = web.AppKey("adapters", list[str])

class AdapterError(RuntimeError):
    """An adapter could not be imported or mounted: the server does not start without it."""


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
    app = plumbed_app(settings)
    app[GUIDEBOT_KEY] = guidebot
    app[RELOAD_KEY] = asyncio.Event()
    app[_PAGES_KEY] = {}
    app[_POLL_KEY] = index_poll_seconds
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/docs", document_list)
    app.router.add_get("/docs/{document_id}", document)
    app.router.add_static("/assets/", STATIC, name="assets")
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
