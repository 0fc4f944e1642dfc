"""Engines for the two supported databases, with the settings the event store relies on."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for both."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **options: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    options.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "checkin", _release_log_lock_if_held)
    return engine


def _release_log_lock_if_held(dbapi_connection: Any, record: Any) -> None:
    """An append statement that died mid-way may still hold the session advisory lock that
    orders appends (``events.store``); release it before anyone else gets the connection."""
    if dbapi_connection is None or not record.info.pop("may_hold_log_lock", False):
        return
    try:
        dbapi_connection.rollback()
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_advisory_unlock_all()")
        cursor.close()
        dbapi_connection.rollback()
    except Exception:
        # A broken connection ends its session, and the session's locks with it.
        record.invalidate()


def _sqlite_engine(url: str, **options: Any) -> Engine:
    """SQLite in WAL mode, where every write transaction starts with ``BEGIN IMMEDIATE``.

    pysqlite's own transaction handling is switched off (SQLAlchemy's documented recipe) so
    that a writer takes the write lock when it begins, not at its first write: two writers
    then queue on ``busy_timeout`` instead of failing with "database is locked" mid-way.
    Connections opened with the execution option ``read_only=True`` begin deferred.
    """
    options.setdefault("connect_args", {})
    options["connect_args"].setdefault("check_same_thread", False)
    options["connect_args"].setdefault("timeout", 30)
    engine = sa.create_engine(url, **options)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Without it, INSERT OR REPLACE deletes a conflicting row without firing the
        # append-only DELETE trigger on ``events``.
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
