"""Browser tests' shared parts: Debian's chromium driven headless by playwright, and where screenshots go.

    from guidebot_testing.browser import chromium_or_skip, launch_chromium, Screenshots, PageWatch

    executable = chromium_or_skip()          # skips the test, with the reason, when there is no browser
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, executable)
        page = browser.new_page()
        watch = PageWatch.on(page)           # console errors (CSP violations among them), page errors, 4xx/5xx
        shots = Screenshots.for_test("test_overview[dark]")
        shots.take(page, "overview")         # test-artifacts/screenshots/test_overview-dark/overview.png

Only the system's chromium is used (`apt-get install -y chromium`, or `GUIDEBOT_CHROMIUM=/path`); no
browser is ever downloaded. Screenshots go under `test-artifacts/screenshots/<test name>/` at the
repo root, or under `$GUIDEBOT_TEST_ARTIFACTS/screenshots/` when that is set (CI keeps them).

`ServedApp` serves an aiohttp application in process, on a real 127.0.0.1 port a browser can open,
from an event loop in a thread of its own: playwright's sync API drives the browser from the test's
thread, while the server, and any local fake it talks to (Slack, an OIDC provider), run in that loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest
from aiohttp import web

from bot.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Response

T = TypeVar("T")

CHROMIUM = os.environ.get("GUIDEBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> str:
    """The chromium binary to drive; the calling test is skipped, saying how to get it, when it or playwright is missing."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"no chromium at {CHROMIUM}: install it with `apt-get install -y chromium` (Debian/Ubuntu) to run the browser test")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    return CHROMIUM


def launch_chromium(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def artifacts_dir() -> Path:
    """Where test artifacts go: `$GUIDEBOT_TEST_ARTIFACTS`, else `test-artifacts/` at the repo root (git ignores it)."""
    configured = os.environ.get("GUIDEBOT_TEST_ARTIFACTS")
    return Path(configured) if configured else PROJECT_ROOT / "test-artifacts"


@dataclass(frozen=True)
class Screenshots:
    """PNGs of one test's steps, in a folder named after the test."""

    folder: Path

    @classmethod
    def for_test(cls, test_name: str) -> Screenshots:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
        folder = artifacts_dir() / "screenshots" / safe
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def take(self, page: Page, step: str, *, full_page: bool = True) -> Path:
        path = self.folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


@dataclass
class PageWatch:
    """What went wrong on a page as a user's browser would show it: console errors (a CSP violation is
    one), uncaught script errors, and responses of 400 or more."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)

    @classmethod
    def on(cls, page: Page) -> PageWatch:
        watch = cls()
        page.on("console", watch._console)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on("response", watch._response)
        return watch

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed_responses.append(f"{response.status} {response.url}")

    def problems(self, *, allow_status: Callable[[str], bool] = lambda _line: False) -> list[str]:
        """Everything seen, less failed responses the test expected (`allow_status("404 http://…")` → True).

        Chromium logs a console error for every failed response too; those of allowed ones are dropped with them.
        """
        allowed = [line for line in self.failed_responses if allow_status(line)]
        errors = [
            e for e in self.console_errors
            if not (e.startswith("Failed to load resource") and any(line.split(" ", 1)[1] in e for line in allowed))
        ]
        return errors + self.page_errors + [line for line in self.failed_responses if line not in allowed]


class ServedApp:
    """An aiohttp application on 127.0.0.1, served from an event loop in its own thread.

    `run(coro)` runs a coroutine in that loop and returns its result, so a test's thread can start a
    local fake there, or wait for the server's background work. `close()` stops the site, then the loop.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="served-app", daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, coro: Awaitable[T], timeout: float = 60) -> T:
        async def wrapped() -> T:
            return await coro

        future: Future[T] = asyncio.run_coroutine_threadsafe(wrapped(), self.loop)
        return future.result(timeout)

    def serve(self, make_app: Callable[[], web.Application], port: int) -> None:
        """Build the app inside the loop (aiohttp binds some parts to the running loop) and serve it on `port`."""

        async def start() -> None:
            self._runner = web.AppRunner(make_app(), access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", port).start()

        self.run(start())
        self.port = port

    def close(self) -> None:
        try:
            if self._runner is not None:
                self.run(self._runner.cleanup())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


def any_of(*patterns: str) -> Callable[[str], bool]:
    """An `allow_status` for `PageWatch.problems`: a failed response whose line matches any of `patterns`."""
    compiled = [re.compile(p) for p in patterns]
    return lambda line: any(c.search(line) for c in compiled)


__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "PageWatch",
    "Screenshots",
    "ServedApp",
    "any_of",
    "artifacts_dir",
    "chromium_or_skip",
    "launch_chromium",
]
