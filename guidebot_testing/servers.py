"""`guidebot serve` as a real subprocess, for end-to-end tests, benchmarks and the stress run.

    from guidebot_testing.servers import serve

    with serve(data_dir=data_dir, env={"SLACK_SIGNING_SECRET": "s"}) as server:
        status, body = server.post_json("/api/ask", {"question": "What does a VPMA do?"})

`serve` picks a free 127.0.0.1 port, starts the server with the repo's knowledge
and the given data dir (Teams in local mode, no rate limits), waits until `/readyz` answers 200 (or only `/healthz`
with `ready=False`), yields a `RunningServer`, and stops it (SIGTERM, then
SIGKILL) on exit; `launch` does the same without the `with`, for a caller that
stops the server itself. The server's log (JSON lines unless `GUIDEBOT_LOG_JSON=false`)
goes to `server.log_path`. `seed_index` copies a built index into a fresh data dir,
so a server starts without building one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT
from index.persist import live_target

GUIDEBOT = Path(sys.executable).with_name("guidebot")
START_TIMEOUT = 90.0
UNHANDLED_MESSAGES = (
    "unhandled error",
    "background work failed",
    "turn failed",
    "could not be answered",
    "could not be processed",
    "Error handling request",
    "Task exception was never retrieved",
    "Exception in callback",
)
"""Words of an ERROR log line that mean something went unhandled, as opposed to a delivery that failed and was dealt with."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_index(source_data_dir: Path, data_dir: Path) -> Path:
    """Copy a built index into `data_dir` (as `guidebot index` leaves it) so a server starts without building."""
    data_dir.mkdir(parents=True, exist_ok=True)
    build = live_target(source_data_dir / "index")
    shutil.copytree(build, data_dir / build.name)
    (data_dir / "index").symlink_to(build.name)
    return data_dir


def server_env(data_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a test server runs with: the repo's knowledge, the given data dir, offline model."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GUIDEBOT_", "SLACK_", "MICROSOFT_APP_"))}
    base.update(
        {
            "GUIDEBOT_DATA_DIR": str(data_dir),
            "GUIDEBOT_KNOWLEDGE_DIR": str(PROJECT_ROOT / "knowledge"),
            "GUIDEBOT_LOG_JSON": "true",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
            # Teams without an app id, answering the local fake connector (loopback only); and no rate limits,
            # since tests and benchmarks ask from one address as fast as they can. `env` may set either back.
            "GUIDEBOT_TEAMS_LOCAL_MODE": "1",
            "GUIDEBOT_RATE_LIMIT_PER_ADDRESS": "0",
            "GUIDEBOT_RATE_LIMIT_PER_SESSION": "0",
        }
    )
    base.update(env or {})
    return base


@dataclass
class RunningServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    started_seconds: float = 0.0
    """Seconds from launching the process to its first 200 on the readiness path."""

    def __str__(self) -> str:
        return self.url

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines (other lines, e.g. from a library printing, are skipped)."""
        records = []
        for line in self.logs().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None, timeout: float = 30
    ) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def get(self, path: str) -> tuple[int, bytes]:
        status, _, body = self.request("GET", path)
        return status, body

    def post_json(self, path: str, data: Any, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        status, _, body = self.request(
            "POST", path, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})}
        )
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def wait_until(server: RunningServer, path: str, timeout: float, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"guidebot serve exited with {server.process.returncode}:\n{server.logs()[-4000:]}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=2) as resp:
                if resp.status == 200:
                    return
        except urllib.error.HTTPError as err:
            last = f"{err.code} {err.read()[:500]!r}"
        except (urllib.error.URLError, OSError) as err:
            last = str(err)
        time.sleep(poll)
    logs = "\n".join(line for line in server.logs().splitlines() if '"route": "' + path + '"' not in line)
    raise TimeoutError(f"guidebot serve did not answer {path} in {timeout:.0f}s (last: {last}):\n{logs[-4000:]}")


def launch(
    env: Mapping[str, str] | None = None,
    *,
    data_dir: Path | None = None,
    port: int | None = None,
    ready: bool = True,
    timeout: float = START_TIMEOUT,
    log_path: Path | None = None,
    poll: float = 0.1,
) -> RunningServer:
    """`guidebot serve` on a free 127.0.0.1 port, returned once ready (or alive, with `ready=False`).

    Give `data_dir` (e.g. the `indexed_data_dir` fixture, so nothing is built),
    or `env` with `GUIDEBOT_DATA_DIR`; extra variables in `env` (tokens,
    `GUIDEBOT_DATABASE_URL`, `SLACK_API_URL` …) pass through. The caller stops it
    (`server.stop()`); a server that never gets ready is stopped here. `poll` is
    how often readiness is asked, small when the start-up time is what is measured.
    """
    env = dict(env or {})
    if data_dir is None:
        if "GUIDEBOT_DATA_DIR" not in env:
            raise ValueError("launch() needs data_dir= or GUIDEBOT_DATA_DIR in env")
        data_dir = Path(env["GUIDEBOT_DATA_DIR"])
    port = port or free_port()
    log_path = log_path or data_dir.parent / f"server-{port}.log"
    started = time.perf_counter()
    with log_path.open("ab") as log_file:  # the child keeps its own copy
        process = subprocess.Popen(
            [str(GUIDEBOT), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=data_dir.parent,  # not the repo: a developer's .env must not leak into tests
            env=server_env(data_dir, env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", port, process, log_path, data_dir)
    try:
        wait_until(server, "/readyz" if ready else "/healthz", timeout, poll)
    except BaseException:
        server.stop()
        raise
    server.started_seconds = time.perf_counter() - started
    return server


@contextmanager
def serve(
    env: Mapping[str, str] | None = None,
    *,
    data_dir: Path | None = None,
    port: int | None = None,
    ready: bool = True,
    timeout: float = START_TIMEOUT,
    log_path: Path | None = None,
) -> Iterator[RunningServer]:
    """`launch`, stopped when the `with` block ends."""
    server = launch(env, data_dir=data_dir, port=port, ready=ready, timeout=timeout, log_path=log_path)
    try:
        yield server
    finally:
        server.stop()
