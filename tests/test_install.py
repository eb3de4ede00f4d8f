"""A plain `pip install .` (what the Dockerfile runs; no dev extra) is enough for every command.

The virtual environment is built once per `pyproject.toml` (so once per change of the dependencies)
under `.cache/plain-install/`, with `pip install .` alone, and kept; every test run then reinstalls
just the project (`--no-deps`) from a copy of today's sources, so the commands run today's code
against exactly the declared dependencies. pip's own cache (and the local torch wheel) make the first
build a minute or two. Never `--system-site-packages`: the dev environment's packages would hide a
missing dependency, as Pillow's was hidden until `guidebot teams-package` failed on a normal install.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
import yaml

from bot import cli
from bot.settings import PROJECT_ROOT

CACHE = PROJECT_ROOT / ".cache" / "plain-install"
SOURCES = ("pyproject.toml", "README.md", "bot", "adapters", "index", "knowledge")
"""What the Dockerfile copies before `pip install .`."""
INSTALL_TIMEOUT = 1800
STALE_SECONDS = 86_400
COMMAND_TIMEOUT = 600
APP_ID = "6f1b2c3d-0000-4000-8000-000000000001"
NO_NETWORK_COMMANDS = {"index", "ask", "command", "slack-manifest", "teams-package", "report"}


@dataclass(frozen=True)
class PlainInstall:
    venv: Path
    home: Path

    @property
    def guidebot(self) -> Path:
        return self.venv / "bin" / "guidebot"

    def env(self) -> dict[str, str]:
        """The user's environment without this checkout's: no PYTHONPATH, no active venv, no settings."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("GUIDEBOT_")}
        env.update(
            {
                "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
                "GUIDEBOT_DATA_DIR": str(self.home / "data"),
                "GUIDEBOT_KNOWLEDGE_DIR": str(PROJECT_ROOT / "knowledge"),
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false",
            }
        )
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`guidebot …` as a user of the plain install runs it, from a directory outside the checkout."""
        return subprocess.run(
            [str(self.guidebot), *args], cwd=self.home, env=self.env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )


def _key() -> str:
    digest = hashlib.sha256((PROJECT_ROOT / "pyproject.toml").read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()[:16]


def _copy_sources(to: Path) -> Path:
    shutil.rmtree(to, ignore_errors=True)
    to.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "data")
    for name in SOURCES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, to / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, to / name)
    return to


def _pip(venv: Path, *args: str) -> None:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args],
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert result.returncode == 0, f"pip install {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time: two test runs at once share the cache, not a half-built venv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _base_python() -> str:
    """The interpreter this venv was made from: a venv of a venv would still be plain, but say so."""
    return getattr(sys, "_base_executable", None) or sys.executable


@pytest.fixture(scope="session")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> PlainInstall:
    key = _key()
    venv = CACHE / key / "venv"
    built = CACHE / key / "complete"
    with _locked(CACHE / f"{key}.lock"):
        sources = _copy_sources(CACHE / key / "src")
        if not built.exists():
            shutil.rmtree(venv, ignore_errors=True)
            made = subprocess.run([_base_python(), "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
            if made.returncode != 0 or not (venv / "bin" / "python").exists():
                pytest.skip(f"cannot create a virtual environment here ({_base_python()} -m venv: {made.stderr.strip()[-300:]})")
            _pip(venv, str(sources))  # `pip install .`, as the Dockerfile does: the declared dependencies and nothing else
            built.write_text(key)
        else:
            _pip(venv, "--no-deps", "--force-reinstall", str(sources))  # today's code, the same dependencies
            built.touch()
        for old in CACHE.iterdir():  # environments of earlier pyproject.toml versions, unused for a day
            marker = old / "complete"
            if old.is_dir() and old.name != key and (not marker.exists() or time.time() - marker.stat().st_mtime > STALE_SECONDS):
                shutil.rmtree(old, ignore_errors=True)
    home = tmp_path_factory.mktemp("plain-install-home")
    return PlainInstall(venv, home)


@pytest.fixture(scope="session")
def indexed(plain_install: PlainInstall) -> subprocess.CompletedProcess[str]:
    """`guidebot index` into an empty data dir, with the bundled model: the first thing a new user runs."""
    return plain_install.run("index")


def _commands() -> list[str]:
    return sorted(typer.main.get_command(cli.app).commands)  # type: ignore[attr-defined]


def test_the_plain_install_has_no_dev_packages(plain_install: PlainInstall) -> None:
    """The environment really is plain: what only the dev extra brings is absent."""
    probe = subprocess.run(
        [str(plain_install.venv / "bin" / "python"), "-c", "import importlib.util as u; print([m for m in ('pytest', 'hypothesis', 'playwright', 'fpdf') if u.find_spec(m)])"],
        cwd=plain_install.home, env=plain_install.env(), capture_output=True, text=True, timeout=120,
    )
    assert probe.returncode == 0 and probe.stdout.strip() == "[]", probe.stdout + probe.stderr


@pytest.mark.parametrize("command", _commands())
def test_every_command_shows_its_help(plain_install: PlainInstall, command: str) -> None:
    result = plain_install.run(command, "--help")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Usage" in result.stdout and "Traceback" not in result.stderr


def test_every_command_is_covered() -> None:
    assert NO_NETWORK_COMMANDS <= set(_commands())


def test_index_builds_from_a_plain_install(indexed: subprocess.CompletedProcess[str]) -> None:
    assert indexed.returncode == 0, indexed.stdout + indexed.stderr
    assert "Index built" in indexed.stdout


def test_ask_answers_from_a_plain_install(plain_install: PlainInstall, indexed: subprocess.CompletedProcess[str]) -> None:
    result = plain_install.run("ask", "--json", "What does a VPMA do?")
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["answered"] and "Vice President of Medical Affairs" in json.dumps(answer)


def test_command_replies_from_a_plain_install(plain_install: PlainInstall, indexed: subprocess.CompletedProcess[str]) -> None:
    summary = plain_install.run("command", "credential DO")
    assert summary.returncode == 0, summary.stdout + summary.stderr
    assert "Doctor of Osteopathic Medicine (DO)" in summary.stdout
    question = plain_install.run("command", "What does a VPMA do?")
    assert question.returncode == 0, question.stdout + question.stderr
    assert "Sources" in question.stdout


def test_slack_manifest_from_a_plain_install(plain_install: PlainInstall, indexed: subprocess.CompletedProcess[str]) -> None:
    result = plain_install.run("slack-manifest", "--url", "https://bot.example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/guide"]


def test_teams_package_from_a_plain_install(plain_install: PlainInstall, indexed: subprocess.CompletedProcess[str]) -> None:
    out = plain_install.home / "guidebot-teams.zip"
    result = plain_install.run("teams-package", "--app-id", APP_ID, "--url", "https://bot.example.org", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(out) as package:
        assert {"manifest.json", "color.png", "outline.png"} <= set(package.namelist())
        assert json.loads(package.read("manifest.json"))["bots"][0]["botId"] == APP_ID


def test_report_from_a_plain_install(plain_install: PlainInstall, indexed: subprocess.CompletedProcess[str]) -> None:
    plain_install.run("command", "What does a CQO do?")
    result = plain_install.run("report", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] >= 1
