"""Databases for the state-store contract: a SQLite file and a PostgreSQL schema.

Each PostgreSQL test gets a schema of its own (`guidebot_test_<random>`), put
first on the search path through the URL, so parallel runs never collide and
`SqlStore` needs no knowledge of it. When PostgreSQL is not there the
PostgreSQL cases skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.store import SqlStore, normalize_database_url

DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str:
    return os.environ.get("GUIDEBOT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_reachability: dict[str, str | None] = {}


def postgres_unreachable_reason() -> str | None:
    url = postgres_url()
    if url not in _reachability:
        try:
            psycopg.connect(_libpq_url(url), connect_timeout=3).close()
            _reachability[url] = None
        except psycopg.Error as error:
            where = make_url(url)
            _reachability[url] = (
                f"PostgreSQL not reachable at {where.host}:{where.port or 5432}: "
                f"{str(error).strip().splitlines()[0]}"
            )
    return _reachability[url]


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections see only a fresh, empty schema."""
    reason = postgres_unreachable_reason()
    if reason:
        pytest.skip(reason)
    admin_url = _libpq_url(postgres_url())
    schema = f"guidebot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(normalize_database_url(postgres_url())).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'state.sqlite3'}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(database_url)
    yield opened
    opened.close()


@dataclass
class Clock:
    """Time that tests move by hand, so TTLs and retention need no sleeping."""

    now: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def claim_in_process(url: str, key: str, barrier: Any, results: Any) -> None:
    """Run in a separate OS process: open the store, wait for the other, claim."""
    store = SqlStore(url)
    try:
        barrier.wait(timeout=60)
        results.put(store.claim(key))
    finally:
        store.close()
