"""Connections to the store's database: which driver, and how SQLite is set up to be safe to share.

SQLite serves one server: its file is its owner's alone, a returned commit survives power loss,
deleted rows are overwritten, and every transaction takes the write lock up front.
PostgreSQL serves many replicas and needs none of that here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)


def normalize_database_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str) -> tuple[Engine, bool]:
    """The engine for `url`, and whether it is an in-memory SQLite database (one connection for all threads)."""
    parsed = make_url(normalize_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return sa.create_engine(parsed, pool_pre_ping=True), False


def _owner_only(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it gives its -wal and -shm files the database's
    mode), and tighten one made looser by an earlier version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        try:
            if file.exists() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except OSError as error:
            log.warning("could not make %s readable by its owner only: %s", file, error)


def _sqlite_engine(url: URL) -> tuple[Engine, bool]:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory:
        _owner_only(Path(str(url.database)))
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({"poolclass": StaticPool} if in_memory else {}),
    )

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would
        # defer it), and make a returned commit durable against power loss.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        # Deleted rows are overwritten with zeros, whatever the SQLite build's default (see `purge`).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Take the write lock up front: a deferred transaction that later
        # writes can fail with SQLITE_BUSY without waiting for busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine, in_memory


def checkpoint_write_ahead_log(engine: Engine) -> bool:
    """Copy SQLite's write-ahead log into the database and truncate it; False when another process kept
    it busy. The log still holds purged rows as they were written, whatever `secure_delete` did to the
    database's pages."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy = (cursor.fetchone() or (0,))[0]
        cursor.close()
    finally:
        raw.close()
    return not busy
