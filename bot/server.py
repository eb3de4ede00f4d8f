"""The one aiohttp server: the core's routes, the shared HTTP plumbing, and the adapters.

Routes owned here:

- `GET /healthz`: the process is alive (no I/O).
- `GET /readyz`: the index is loaded and the state store answers; 503 with a reason otherwise.
- `GET /metrics`: Prometheus text from `bot.metrics.REGISTRY`.
- `GET /docs`, `GET /docs/{document_id}[?chunk=<chunk id>]`: the guide as readable pages.

Adapters (Slack, Teams, the web console with its `/api/ask` and
`/api/feedback`) add their routes through the `guidebot.adapters` entry point
group. Every request goes through `bot.http`'s middlewares (request log,
metrics, rate limits, bodies read within a time limit); the server never logs
what a member typed: only ids, lengths and outcomes. What lives as long as the
process (threads, the core, hot reload, tuning) is `bot.runtime.Runtime`,
started and closed with the application.
"""

from __future__ import annotations

import asyncio
import logging
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.docpages import STATIC, DocumentPage, build_pages, render_document, render_document_list, render_not_found
from bot.http import SETTINGS_KEY, plumbed_app
from bot.metrics import REGISTRY
from bot.runtime import INDEX_POLL_SECONDS, Runtime
from bot.service import Guidebot
from bot.settings import Settings
from index.persist import IndexMissingError

log = logging.getLogger("guidebot.server")

GUIDEBOT_KEY = web.AppKey("guidebot", Guidebot)
RUNTIME_KEY = web.AppKey("runtime", Runtime)
ADAPTERS_KEY = web.AppKey("adapters", list[str])
_PAGES_KEY = web.AppKey("pages", dict)

__all__ = ["ADAPTERS_KEY", "GUIDEBOT_KEY", "INDEX_POLL_SECONDS", "RUNTIME_KEY", "SETTINGS_KEY", "AdapterError", "create_app", "run_server"]


class AdapterError(RuntimeError):
    """An adapter could not be imported or mounted: the server does not start without it."""


# ---------------------------------------------------------------------------------------------
# Handlers


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    guidebot = request.app[GUIDEBOT_KEY]
    if request.app[RUNTIME_KEY].loading:
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
    """The whole server as one aiohttp application; `run_server` runs it, tests drive it in-process.

    The runtime starts before anything else on start-up (its threads serve every `to_thread`) and
    closes after everything else on clean-up (the adapters' clean-up may still use the core).
    """
    app = plumbed_app(settings)
    runtime = Runtime(settings, guidebot, poll_seconds=index_poll_seconds)
    app[GUIDEBOT_KEY] = guidebot
    app[RUNTIME_KEY] = runtime
    app[_PAGES_KEY] = {}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/docs", document_list)
    app.router.add_get("/docs/{document_id}", document)
    app.router.add_static("/assets/", STATIC, name="assets")
    if adapters:
        app[ADAPTERS_KEY] = mount_adapters(app, guidebot, settings)

    async def start(_app: web.Application) -> None:
        await runtime.start()

    async def close(_app: web.Application) -> None:
        await runtime.close()

    app.on_startup.insert(0, start)
    app.on_cleanup.append(close)
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
    app = create_app(settings, build_guidebot(settings, embedder))
    urls = server_urls(settings, host, port)

    async def announce(app: web.Application) -> None:
        mounted = app.get(ADAPTERS_KEY)
        log.info(
            "guidebot serving",
            extra={"host": host, "port": port, "adapters": ",".join(mounted or []), **urls},
        )

    app.on_startup.append(announce)
    web.run_app(app, host=host, port=port, access_log=None, print=None, shutdown_timeout=10, handle_signals=True)
