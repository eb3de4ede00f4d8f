"""A thread's own CPU priority (its nice value), which Linux keeps per thread: the server's answer workers run below
its event loop (`bot.batching`), and what they hand the model's side thread runs at theirs (`index.onnx_embedder`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def thread_priority() -> int | None:
    """This thread's nice value; None where the platform has none per thread."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return None


def set_thread_priority(niceness: int) -> None:
    """Set this thread's nice value. A lower priority can always be taken; a higher one needs privilege, and where it
    is refused (or the platform has no per-thread priority) the thread keeps the one it has."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):
        pass


def run_at(priority: int | None, job: Callable[[], T]) -> T:
    """`job`, run at the CPU priority of the thread that asked for it (`thread_priority`). A pool's thread keeps the
    priority of whichever thread started it, and a server's answer workers run below its event loop (`bot.batching`):
    what they hand a side thread must not compete with the loop at its priority (a thread once lowered may stay
    there: `set_thread_priority`)."""
    if priority is not None and thread_priority() != priority:
        set_thread_priority(priority)
    return job()
