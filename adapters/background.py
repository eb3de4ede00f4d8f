"""Work an adapter starts after it has acknowledged the platform, and waits for when the server stops.

Slack wants an ack within 3 seconds and Teams within 15, while an answer can
wait behind others for the encoder; both adapters ack first and answer here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.metrics import ERRORS

log = logging.getLogger(__name__)


class Background:
    """Tasks that run after the ack; awaited (then cancelled) when the server stops."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._tasks: set[asyncio.Task[object]] = set()

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run `work` on the loop, its result dropped; a failure is counted and logged."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            ERRORS.labels(self.platform).inc()
            log.error("%s: background work failed", self.platform, exc_info=task.exception())

    async def idle(self, timeout: float | None = None) -> bool:
        """Wait until no work is pending (True), or `timeout` seconds pass (False)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=left)
        return True

    async def close(self, grace: float = 10.0) -> None:
        if not await self.idle(grace):
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
