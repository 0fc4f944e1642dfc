"""Engines for the two supported databases, with the settings the event store relies on."""

from __future__ import annotations

import time
from typing import Any

import orjson
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


def read_only_connection(engine: Engine) -> sa.Connection:
    """A connection for reading: on PostgreSQL in autocommit, so no BEGIN and ROLLBACK.

    Under READ COMMITTED every statement takes its own snapshot anyway, so a transaction
    around a read adds nothing but two round trips (a quarter of all statements at 40
    complaints/s). Not for server-side cursors (``stream_results``), which need one. On
    SQLite the ``read_only`` option makes the transaction begin deferred (``_sqlite_engine``).
    """
    if engine.dialect.name == "postgresql":
        return _with_options(engine, read_only=True, isolation_level="AUTOCOMMIT").connect()
    return _with_options(engine, read_only=True).connect()


def _with_options(engine: Engine, **options: Any) -> Engine:
    """One options engine per engine and options, sharing the engine's pool: setting the
    options on every connection instead copies the engine's event dispatch each time."""
    cache: dict[tuple[tuple[str, Any], ...], Engine] = engine.__dict__.setdefault(_VARIANTS, {})
    key = tuple(sorted(options.items()))
    variant = cache.get(key)
    if variant is None:
        variant = cache[key] = engine.execution_options(**options)
    return variant


_VARIANTS = "_street_whistle_variants"


def skip_flush_wait(conn: sa.Connection) -> None:
    """Let the caller's transaction commit without waiting for its WAL flush (PostgreSQL).

    Only for work that is redone if a crash loses it (a checkpoint, a delivery record): the
    commit is visible at once either way, and never reorders against a later flushed commit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


def make_engine(url: str, **options: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    # Sessions in UTC, whatever the server's default: every timestamp we store is UTC, and
    # psycopg then hands back ``timezone.utc`` datetimes, which convert far cheaper than a
    # ``ZoneInfo`` (it showed up per event on the log's read paths).
    options.setdefault("connect_args", {}).setdefault("options", "-c TimeZone=UTC")
    # JSON columns (every event's data and meta) are decoded by the driver; orjson does it
    # several times faster than the standard library (a tenth of the relay's and the
    # projections' interpreter time went to ``json.loads``). Same Python values out.
    options.setdefault("json_deserializer", orjson.loads)
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "checkin", _release_log_lock_if_held)
    if not options.get("pool_pre_ping"):
        sa.event.listen(engine, "checkin", _note_checkin)
        sa.event.listen(engine, "checkout", _ping_if_idle)
    return engine


# A pooled connection idle for longer than this is pinged before use (see ``_ping_if_idle``).
PING_AFTER_IDLE = 1.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """``pool_pre_ping``, but only for a connection that sat idle for a while.

    Pinging on every checkout costs a round trip per checkout, and a busy process checks
    connections out dozens of times per request. A database restart is noticed by the first
    checkout after it: connections idle for more than ``PING_AFTER_IDLE`` are pinged and
    replaced if dead (the pool retries with a fresh one); one used within the last second
    fails its statement instead, and SQLAlchemy then invalidates the whole pool, so only
    the requests in flight at the restart fail (503, nothing half-written: they roll back).
    """
    idle_since = record.info.get("checked_in_at")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as error:
        raise sa.exc.DisconnectionError(str(error)) from error


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
