"""The serving runtime: what it starts it closes, it reloads a rebuilt index once, and importing changes nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from bot.answer import Answer
from bot.metrics import INDEX_RELOADS
from bot.runtime import Runtime
from bot.service import Guidebot, Inbound
from bot.settings import PROJECT_ROOT, Settings
from bot.wiring import build_guidebot
from index.embedder import Embedder
from index.persist import live_target, new_build_dir, publish, read_manifest

RUNTIME_THREADS = ("guidebot-blocking", "answer-batcher", "guidebot-bookkeeping")


@pytest.fixture()
def guidebot(indexed_data_dir: Path, embedder: Embedder) -> Guidebot:
    return build_guidebot(Settings(knowledge_dir=PROJECT_ROOT / "knowledge", data_dir=indexed_data_dir), embedder)


async def _until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _blas_threads() -> set[int]:
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def _runtime_threads(ignore: frozenset[threading.Thread] = frozenset()) -> list[str]:
    """Runtime threads alive now, less `ignore` (those other tests' runtimes left behind in this process)."""
    return [t.name for t in threading.enumerate() if t.name.startswith(RUNTIME_THREADS) and t not in ignore]


async def test_close_gives_back_the_threads_the_batcher_and_the_tuning_and_a_second_close_is_harmless(
    guidebot: Guidebot,
) -> None:
    switch_interval = sys.getswitchinterval()
    before = frozenset(threading.enumerate())
    runtime = Runtime(guidebot.settings, guidebot, poll_seconds=0.05)
    blas_before = _blas_threads()
    await runtime.start()
    assert sys.getswitchinterval() == guidebot.settings.gil_switch_seconds
    assert _blas_threads() == {guidebot.settings.blas_threads}
    await _until(lambda: not runtime.loading)
    reply = await guidebot.respond_async(Inbound("What does a VPMA do?", platform="web", user_id="u1"))
    assert isinstance(reply, Answer) and reply.answered
    assert threading.current_thread().name not in await asyncio.gather(
        *(asyncio.to_thread(lambda: threading.current_thread().name) for _ in range(3))
    )
    pool = runtime.pool
    assert pool is not None

    await runtime.close()

    with pytest.raises(RuntimeError):
        pool.submit(print)
    with pytest.raises(RuntimeError):
        guidebot.batcher.submit("What does a VPMA do?")
    await _until(lambda: not _runtime_threads(ignore=before), timeout=10)
    assert sys.getswitchinterval() == switch_interval
    assert _blas_threads() == blas_before
    assert await asyncio.to_thread(lambda: 42) == 42  # the loop still has an executor for whatever runs after us
    await runtime.close()


def _republish(data_dir: Path) -> Path:
    """What `guidebot index` does, without the minute of embedding: a new build, published by swapping the link."""
    live = live_target(data_dir / "index")
    build = new_build_dir(data_dir)
    shutil.copytree(live, build, dirs_exist_ok=True)
    manifest = read_manifest(live)
    assert manifest is not None
    return publish(build, data_dir / "index", manifest)


async def test_a_rebuilt_index_is_loaded_once_by_the_runtime_and_never_on_a_request(
    guidebot: Guidebot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="guidebot.server")
    runtime = Runtime(guidebot.settings, guidebot, poll_seconds=0.05)
    await runtime.start()
    try:
        await _until(lambda: not runtime.loading)
        first = guidebot.engines.engine().index.path
        reloads = INDEX_RELOADS._value.get()
        published = await asyncio.to_thread(_republish, guidebot.settings.data_dir)
        await _until(lambda: guidebot.engines.engine().index.path == published)
        await asyncio.sleep(0.3)  # several more polls: the same build must not load again
        assert first != published
        assert INDEX_RELOADS._value.get() == reloads + 1
        ready = [r for r in caplog.records if r.getMessage() == "index ready"]
        assert [r.why for r in ready] == ["start-up", "manifest changed"]  # type: ignore[attr-defined]

        runtime.request_reload()  # SIGHUP: checked at once; nothing new, so nothing reloads
        await _until(lambda: len([r for r in caplog.records if r.getMessage() == "index ready"]) == 3)
        assert INDEX_RELOADS._value.get() == reloads + 1
    finally:
        await runtime.close()


def test_without_a_runtime_a_request_keeps_the_index_it_loaded(guidebot: Guidebot) -> None:
    first = guidebot.engines.engine()
    _republish(guidebot.settings.data_dir)
    assert guidebot.engines.engine() is first
    assert guidebot.engines.refresh() and guidebot.engines.engine() is not first
    guidebot.close()


GLOBAL_STATE = """
import importlib, json, logging, os, pkgutil, sys, warnings

OURS = ("bot", "adapters", "index", "knowledge", "guidebot")
set_by = []
_set_level = logging.Logger.setLevel

def recording_set_level(self, level):
    set_by.append([self.name, sys._getframe(1).f_code.co_filename])
    _set_level(self, level)

logging.Logger.setLevel = recording_set_level
for name in ("filterwarnings", "simplefilter"):
    def recording(*args, _original=getattr(warnings, name), _name=name, **kwargs):
        set_by.append(["warnings." + _name, sys._getframe(1).f_code.co_filename])
        return _original(*args, **kwargs)
    setattr(warnings, name, recording)

def state():
    loggers = {name: [logger.level, logger.disabled, logger.propagate]
               for name, logger in logging.root.manager.loggerDict.items()
               if isinstance(logger, logging.Logger) and name.split(".")[0] in OURS
               and (logger.level or logger.disabled or not logger.propagate)}
    loggers["(root)"] = [logging.getLogger().level, False, True]
    return {"switch": sys.getswitchinterval(), "env": dict(os.environ), "loggers": loggers,
            "recursion": sys.getrecursionlimit()}

before = state()
names = sorted(
    info.name
    for package in OURS[:-1]
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + ".")
)
for name in names:
    importlib.import_module(name)
print(json.dumps({"before": before, "after": state(), "modules": len(names), "set_by": set_by}))
"""


def test_importing_every_module_changes_no_global_state() -> None:
    """Libraries may set their own loggers' levels and warning filters on import; our modules do neither, and
    leave the interpreter, the environment and our loggers as they were."""
    out = subprocess.run(
        [sys.executable, "-c", GLOBAL_STATE], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(out.stdout)
    before, after = result["before"], result["after"]
    assert result["modules"] > 40
    assert after["switch"] == before["switch"]
    assert after["env"] == before["env"]
    assert after["loggers"] == before["loggers"]
    ours = [str(PROJECT_ROOT / package) for package in ("bot", "adapters", "index", "knowledge")]
    assert [(name, where) for name, where in result["set_by"] if where.startswith(tuple(ours))] == []
    assert after["recursion"] == before["recursion"]
