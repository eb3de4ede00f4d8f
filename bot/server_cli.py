"""`guidebot serve`: build the index if there is none, then run the server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Optional

import typer

from bot.settings import Settings

log = logging.getLogger("guidebot.serve")


def ensure_index(settings: Settings, embedder) -> None:
    """A fresh checkout or a new volume has no index yet: build it, so `make run` just works.

    An existing index is left alone; `guidebot index` updates it and the running
    server picks the new one up.
    """
    from bot.indexing import build_index
    from index.persist import live_target, read_manifest

    if read_manifest(live_target(settings.index_dir)) is not None:
        return
    log.info("no index yet: building it", extra={"knowledge_dir": str(settings.knowledge_dir)})
    result = build_index(settings, embedder)
    log.info(
        "index built",
        extra={"documents": result.manifest.documents, "chunks": result.manifest.chunks, "seconds": round(result.seconds, 1)},
    )


def register(app: typer.Typer, get_settings: Callable[[], Settings]) -> None:
    @app.command()
    def serve(
        host: Annotated[Optional[str], typer.Option("--host", help="Interface to listen on (GUIDEBOT_HOST; default 127.0.0.1).")] = None,
        port: Annotated[Optional[int], typer.Option("--port", min=1, max=65535, help="Port (GUIDEBOT_PORT; default 3978).")] = None,
    ) -> None:
        """Serve the bot: web console, JSON API, document pages, Slack and Teams endpoints."""
        from bot.logs import configure_logging
        from bot.server import AdapterError, run_server
        from bot.embedding import load_embedder
        from index.embedder import EmbedderError
        from knowledge.loaders import DocumentError

        settings = get_settings()
        configure_logging(settings.log_level, settings.log_json)
        try:
            embedder = load_embedder(settings)
            ensure_index(settings, embedder)
        except (EmbedderError, DocumentError, FileNotFoundError) as exc:
            log.error("cannot start", extra={"reason": str(exc)})
            raise typer.Exit(1) from exc
        try:
            run_server(settings, host or settings.host, port or settings.port, embedder=embedder)
        except AdapterError as exc:
            log.error("cannot start: %s", exc)
            raise typer.Exit(1) from exc
        except OSError as exc:
            log.error("cannot listen", extra={"host": host or settings.host, "port": port or settings.port, "reason": str(exc)})
            raise typer.Exit(1) from exc
