"""A thread's own CPU priority (its nice value), which Linux keeps per thread: the server's answer workers run below
its event loop (`bot.batching`), and what they hand the model's side thread runs at theirs (`index.onnx_embedder`)."""

from __future__ import annotations

import os
import threading


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
