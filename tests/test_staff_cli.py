"""`guidebot staff invite | list | revoke`: who may sign in to the dashboard, from a terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot import cli
from bot.settings import Settings
from bot.staff import StaffDesk
from bot.store import SqlStore


@pytest.fixture()
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    monkeypatch.setenv("GUIDEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GUIDEBOT_PORT", "8123")
    monkeypatch.delenv("GUIDEBOT_PUBLIC_URL", raising=False)
    monkeypatch.delenv("GUIDEBOT_DATABASE_URL", raising=False)
    cli.get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli.app, list(args))
    cli.get_settings.cache_clear()


def test_invite_prints_a_one_time_link_that_signs_in(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("staff", "invite", "Ann@Example.org")
    assert result.exit_code == 0, result.output
    assert "ann@example.org" in result.output and "24 hours" in result.output
    link = re.search(r"http://127\.0\.0\.1:8123/staff/sign-in\?token=(\S+)", result.output)
    assert link is not None
    settings = Settings(data_dir=tmp_path)
    store = SqlStore.for_settings(settings)
    try:
        assert StaffDesk(store, settings).sign_in(link.group(1)) is not None
    finally:
        store.close()
    listed = run("staff", "list")
    assert listed.exit_code == 0 and "ann@example.org\tactive" in listed.output and "last signed in" in listed.output


def test_revoke_and_list(run: Callable[..., Result]) -> None:
    assert run("staff", "list").output.startswith("No staff members yet")
    assert run("staff", "invite", "bo@example.org").exit_code == 0
    revoked = run("staff", "revoke", "BO@example.org")
    assert revoked.exit_code == 0 and "Revoked bo@example.org" in revoked.output
    assert "bo@example.org\trevoked" in run("staff", "list").output
    again = run("staff", "revoke", "bo@example.org")
    assert again.exit_code == 1


def test_a_malformed_address_is_refused(run: Callable[..., Result]) -> None:
    result = run("staff", "invite", "not-an-address")
    assert result.exit_code == 2 and "not an e-mail address" in result.output
