"""What lives as long as the serving process, in one object with a `start()` and a `close()`.

`Runtime` owns the threads behind `asyncio.to_thread`, the core (its answer
batcher, bookkeeping threads and store: `Guidebot.close`), the index's hot
reload (a poll of the published manifest, and SIGHUP) and the process tuning
the server wants (the GIL's switch interval, a frozen heap). Nothing of this
happens on import: `start()` applies it, `close()` takes it back, and a second
`close()` does nothing, as aiohttp's `AppRunner` does with its server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import threadpool_limits

from bot.service import Guidebot
from bot.settings import Settings
from index.persist import IndexMissingError

log = logging.getLogger("guidebot.server")
"""The server's log: "index ready" / "index not loaded" lines are read there by operators and tests."""

INDEX_POLL_SECONDS = 2.0
"""How often the published index is checked for a rebuild (SIGHUP checks at once)."""


class Runtime:
    """The serving process's long-lived parts, started and closed together.

    `loading` is true until the index first loads (or fails to): readiness
    says so instead of making a probe wait for the model.
    """

    def __init__(self, settings: Settings, guidebot: Guidebot, *, poll_seconds: float = INDEX_POLL_SECONDS) -> None:
        self.settings = settings
        self.guidebot = guidebot
        self.poll_seconds = poll_seconds
        self.pool: ThreadPoolExecutor | None = None
        self._reload = asyncio.Event()
        self._warmup: asyncio.Task[bool] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sighup = False
        self._switch_interval: float | None = None
        self._blas: threadpool_limits | None = None
        self._frozen = False
        self._closed = False

    @property
    def loading(self) -> bool:
        return self._warmup is not None and not self._warmup.done()

    async def start(self) -> None:
        """Take over the loop's blocking threads, tune the process, and load the index in the background."""
        self._loop = loop = asyncio.get_running_loop()
        self.pool = ThreadPoolExecutor(max_workers=self.settings.blocking_threads, thread_name_prefix="guidebot-blocking")
        loop.set_default_executor(self.pool)
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(self.settings.gil_switch_seconds)
        self._blas = threadpool_limits(limits=self.settings.blas_threads or None, user_api="blas")
        self._warmup = asyncio.create_task(self._load())
        self._watcher = asyncio.create_task(self._watch())
        try:
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
            self._sighup = True
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):  # pragma: no cover - Windows / not the main thread
            log.info("SIGHUP reload unavailable on this platform")

    async def close(self) -> None:
        """Stop reloading, close the core (answers queued are answered first), then give back the threads and tuning."""
        if self._closed or self._loop is None:
            return
        self._closed = True
        if self._sighup:
            self._loop.remove_signal_handler(signal.SIGHUP)
        for task in (self._watcher, self._warmup):
            await _stop(task)
        await asyncio.to_thread(self.guidebot.close)
        if self.pool is not None:
            self.pool.shutdown(wait=False)
            # Code still on this loop after us (another app's cleanup, a test's teardown) gets an ordinary
            # executor, as asyncio would have made, instead of one that refuses work.
            self._loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio"))
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
        if self._blas is not None:
            self._blas.restore_original_limits()
        if self._frozen:
            gc.unfreeze()

    def request_reload(self) -> None:
        """What SIGHUP does: check for a rebuilt index now instead of at the next poll."""
        self._reload.set()

    async def _load(self) -> bool:
        """The first load, off the loop, so the server answers probes while the model loads."""
        try:
            engine = await asyncio.to_thread(self.guidebot.engines.engine)
        except Exception as exc:  # noqa: BLE001 - a bad index must not stop the server: it stays not ready, the reason logged
            _not_loaded("start-up", exc)
            return False
        log.info("index ready", extra={"why": "start-up", "index": str(engine.index.path), "chunks": len(engine.index.chunks)})
        self._freeze_heap(reloaded=False)
        return True

    async def _watch(self) -> None:
        """Load a newly published index in the background (`EngineHolder.refresh`), so no request waits for it."""
        if self._warmup is not None:
            await self._warmup
        holder = self.guidebot.engines
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload.wait(), timeout=self.poll_seconds)
            forced = self._reload.is_set()
            self._reload.clear()
            why = "signal" if forced else "manifest changed"
            try:
                changed = await asyncio.to_thread(holder.refresh)
                engine = await asyncio.to_thread(holder.engine) if changed or forced else None
            except Exception as exc:  # noqa: BLE001 - a bad build must not stop the server: the old index serves on, the reason logged
                _not_loaded(why, exc)
                continue
            if engine is not None:
                log.info("index ready", extra={"why": why, "index": str(engine.index.path), "chunks": len(engine.index.chunks)})
            if changed:
                self._freeze_heap(reloaded=True)

    def _freeze_heap(self, reloaded: bool) -> None:
        """Keep the loaded model, index and libraries out of the garbage collector's full passes.

        A full collection walks every tracked object: with the index and its
        libraries loaded that took ~180 ms, holding the GIL, and was the slowest
        ack of a busy minute. Frozen objects are never walked (nor freed, so a
        reload first thaws and collects what the old index left behind).
        """
        if not self.settings.freeze_heap or self._closed:
            return
        if reloaded:
            gc.unfreeze()
            gc.collect()
        gc.freeze()
        self._frozen = True


def _not_loaded(why: str, exc: BaseException) -> None:
    reason = str(exc) if isinstance(exc, IndexMissingError) else type(exc).__name__
    log.warning("index not loaded", extra={"why": why, "reason": reason})


async def _stop(task: asyncio.Task[object] | None) -> None:
    if task is None or task.done():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception as exc:  # noqa: BLE001 - shutting down: whatever the task raised is logged, the rest still stops
        log.warning("background task failed while stopping", extra={"error": type(exc).__name__})
