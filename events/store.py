"""The append-only event store.

Safe tailing — why a reader following ``position`` never skips an event:
PostgreSQL hands out identity values when a row is inserted, not when its transaction
commits, so a transaction that took position 7 can commit after one that took position 8.
A tailing reader that saw 8 and stored it as its checkpoint would never see 7.

We close that window with transaction ids, without serialising commits:
1. Every event row records the id of the transaction that wrote it (``tx_id``, from
   ``pg_current_xact_id()``), and positions are drawn in transaction-id order: the append
   statement takes the session advisory lock ``EVENT_LOG_LOCK`` before it forms its first
   row and releases it once its last row is in (see ``SERIALISED_INSERT``); the lock is held
   for that one statement, not until commit, so concurrent appends still share disk flushes.
   The append must be the transaction's first write (checked), so its id is assigned inside
   the lock too. Hence ``position`` order and ``tx_id`` order agree.
2. A reader first reads the horizon — the oldest transaction id still running in this
   database (``SAFE_HORIZON``) — and then, in a later statement with a later snapshot, only
   events whose ``tx_id`` is below it. Every transaction below the horizon had finished
   before that snapshot: its events are visible now or never will be. If event P is
   returned, every event below P has a smaller ``tx_id`` and is finished too: nothing below
   P can appear later.
A rolled-back append leaves a gap in the numbers that is simply never filled, so readers
never wait on a gap on a timer. The price: a long-running *writing* transaction in this
database holds tailing back (never loses anything) until it ends; ``read_all`` waits a
moment (``settle``) for such transactions so that a reader right behind a writer sees it.

The insert runs with ``ON CONFLICT DO NOTHING`` so that a lost race cannot abort the
statement while it holds the lock; fewer rows than asked for means another writer won.

SQLite needs no extra lock: every write transaction begins with ``BEGIN IMMEDIATE`` (see
``events.database``), so writers are serialised end to end and commit in position order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from events.database import read_only_connection
from events.envelope import AppendResult, Event, Meta, RecordedEvent, StreamAppend
from events.errors import AppendNotFirst, ConcurrencyError, StoreUnavailable
from events.hashing import GENESIS, event_hash
from events.schema import commands, events

NewRow = dict[str, Any]  # one events row about to be inserted

# How often ``read_all`` looks again while it waits for an older writer (``settle``).
SETTLE_POLL = 0.005
# Streams in one ``read_streams`` query: well under SQLite's old limit of bound parameters.
STREAMS_PER_QUERY = 500

# Arbitrary constant: the advisory lock id that serialises appends on PostgreSQL.
EVENT_LOG_LOCK = 0x5357_4C4F47  # "SWLOG"

# Before the lock, one round trip answers both questions an append asks: was this command
# appended already (and with what result), and where is the stream's head?
_original = (
    sa.select(commands).where(commands.c.command_id == sa.bindparam("command_id")).subquery()
)
_head = (
    sa.select(events.c.version, events.c.hash)
    .where(events.c.stream_id == sa.bindparam("stream_id"))
    .order_by(events.c.version.desc())
    .limit(1)
    .subquery()
)
_one_row = sa.select(sa.literal(1).label("one")).subquery()
# SQLite asks stream by stream (its writers are serialised anyway).
COMMAND_AND_HEAD = sa.select(
    _original.c.stream_id.label("original_stream_id"),
    _original.c.first_version,
    _original.c.last_version,
    _original.c.last_position,
    _head.c.version.label("head_version"),
    _head.c.hash.label("head_hash"),
).select_from(_one_row.outerjoin(_original, sa.true()).outerjoin(_head, sa.true()))

# On PostgreSQL the same round trip asks whether the transaction has written anything yet,
# and for a derived append (``derived_writes``) it also lets the commit skip waiting for its
# WAL flush (``set_config(…, true)`` lasts until the transaction ends).
_COMMAND_AND_HEAD_PG = COMMAND_AND_HEAD.add_columns(
    sa.literal_column("pg_current_xact_id_if_assigned() IS NULL").label("fresh_transaction")
)
_COMMAND_AND_HEAD_PG_DERIVED = _COMMAND_AND_HEAD_PG.add_columns(
    sa.func.set_config("synchronous_commit", "off", True).label("flush_wait")
)


def _compiled_pg(statement: sa.Select[Any]) -> tuple[str, dict[str, Any]]:
    """The statement as psycopg's SQL text and its fixed parameters, compiled once: every
    append runs it, and building its cache key on each run was a tenth of an append's
    interpreter time (the columns it returns need no result processing)."""
    compiled = statement.compile(dialect=psycopg_dialect())  # type: ignore[no-untyped-call]
    return str(compiled), dict(compiled.params)


# One stream (every append but a routing batch's): scalar parameters, which the driver
# adapts for much less than arrays (a single append was 15 % slower through ``HEADS_PG``).
COMMAND_AND_HEAD_PG = {
    False: _compiled_pg(_COMMAND_AND_HEAD_PG),
    True: _compiled_pg(_COMMAND_AND_HEAD_PG_DERIVED),
}

# Several streams (``append_many``) in one round trip: one row per stream in the order given,
# with the same columns.
_HEADS_PG = """
    SELECT asked.n, original.stream_id AS original_stream_id, original.first_version,
           original.last_version, original.last_position,
           head.version AS head_version, head.hash AS head_hash,
           pg_current_xact_id_if_assigned() IS NULL AS fresh_transaction{flush_wait}
    FROM unnest(CAST(%(stream_ids)s AS text[]), CAST(%(command_ids)s AS text[]))
         WITH ORDINALITY AS asked (stream_id, command_id, n)
    LEFT JOIN commands AS original ON original.command_id = asked.command_id
    LEFT JOIN LATERAL (
        SELECT events.version, events.hash FROM events
        WHERE events.stream_id = asked.stream_id
        ORDER BY events.version DESC LIMIT 1
    ) AS head ON true
    ORDER BY asked.n
"""
HEADS_PG = {
    False: _HEADS_PG.format(flush_wait=""),
    True: _HEADS_PG.format(
        flush_wait=",\n           set_config('synchronous_commit', 'off', true) AS flush_wait"
    ),
}

# PostgreSQL: one round trip takes the lock, inserts the events of every stream (given as
# one JSON array of rows, in order), releases the lock and records each stream's command.
# The lock is an uncorrelated sub-select in WHERE: PostgreSQL runs it once, as a one-time
# filter, before it forms the first row, and so before ``nextval`` hands out a position or
# the transaction gets its id (a test checks this order). HAVING is evaluated once, after
# every row of ``inserted`` is in, so it releases the lock there. The commands are recorded
# only if every row went in; a stream's command holds the last position of its own rows.
_INSERT_EVENTS = """
    WITH inserted AS (
        INSERT INTO events
            (stream_id, version, type, schema_version, data, meta, recorded_at, prev_hash,
             hash, tx_id)
        SELECT stream_id, version, type, schema_version, data, meta, recorded_at,
               prev_hash, hash, CAST(CAST(pg_current_xact_id() AS text) AS bigint)
        FROM json_to_recordset(CAST(:rows AS json)) AS new (
            n integer, stream_id text, version integer, type text, schema_version integer,
            data json, meta json, recorded_at timestamptz, prev_hash text, hash text
        )
        WHERE (SELECT pg_advisory_lock(:lock)) IS NOT NULL
        ORDER BY n
        ON CONFLICT ON CONSTRAINT uq_events_stream_version DO NOTHING
        RETURNING stream_id, position
    )"""
SERIALISED_INSERT = sa.text(
    _INSERT_EVENTS
    + """,
    appended AS (
        SELECT count(*) AS rows
        FROM inserted
        HAVING pg_advisory_unlock(:lock)
    ),
    recorded AS (
        INSERT INTO commands
            (command_id, stream_id, first_version, last_version, last_position, recorded_at)
        SELECT asked.command_id, asked.stream_id, asked.first_version, asked.last_version,
               max(inserted.position), asked.recorded_at
        FROM json_to_recordset(CAST(:commands AS json)) AS asked (
            command_id text, stream_id text, first_version integer, last_version integer,
            recorded_at timestamptz
        )
        JOIN inserted ON inserted.stream_id = asked.stream_id
        WHERE (SELECT rows FROM appended) = :expected_rows
        GROUP BY asked.command_id, asked.stream_id, asked.first_version, asked.last_version,
                 asked.recorded_at
        ON CONFLICT (command_id) DO NOTHING
        RETURNING stream_id, last_position
    )
    SELECT appended.rows, recorded.stream_id, recorded.last_position
    FROM appended LEFT JOIN recorded ON true
    """
)

# One stream: the same with the command's values as scalar parameters (cheaper to adapt).
SERIALISED_INSERT_ONE = sa.text(
    _INSERT_EVENTS
    + """,
    appended AS (
        SELECT count(*) AS rows, max(position) AS last_position
        FROM inserted
        HAVING pg_advisory_unlock(:lock)
    ),
    recorded AS (
        INSERT INTO commands
            (command_id, stream_id, first_version, last_version, last_position, recorded_at)
        SELECT :command_id, :stream_id, :first_version, :last_version, last_position,
               CAST(:recorded_at AS timestamptz)
        FROM appended
        WHERE rows = :expected_rows
        ON CONFLICT (command_id) DO NOTHING
        RETURNING stream_id, last_position
    )
    SELECT appended.rows, recorded.stream_id, recorded.last_position
    FROM appended LEFT JOIN recorded ON true
    """
)

# The same as psycopg's text, compiled once and run on the driver (``exec_driver_sql``):
# SQLAlchemy's per-statement work for a ``text()`` (its cache key, the compiled lookup, the
# parameters' processing) cost more interpreter time than the driver's own.
SERIALISED_INSERT_PG = {
    "one": str(SERIALISED_INSERT_ONE.compile(dialect=psycopg_dialect())),  # type: ignore[no-untyped-call]
    "many": str(SERIALISED_INSERT.compile(dialect=psycopg_dialect())),  # type: ignore[no-untyped-call]
}

# The safe horizon: the oldest transaction id still running in *this* database (readers
# hand out only events written below it). Transactions of other databases on the same server
# cannot write our events, so unlike ``pg_snapshot_xmin`` this ignores them.
# ``pg_stat_activity.backend_xid`` is a 32-bit xid; it is widened to the 64-bit ``xid8`` of
# ``tx_id`` with the epoch of the next transaction id (one step back if it wrapped).
# With nothing running, everything below the next transaction id is finished.
SAFE_HORIZON = sa.text(
    """
    WITH next AS (
        SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) AS xmax
    ), running AS (
        SELECT ((next.xmax >> 32) << 32) + CAST(CAST(a.backend_xid AS text) AS bigint) AS full_xid,
               next.xmax
        FROM pg_stat_activity AS a, next
        WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
    )
    SELECT coalesce(
        (SELECT min(CASE WHEN full_xid >= xmax THEN full_xid - 4294967296 ELSE full_xid END)
         FROM running),
        (SELECT xmax FROM next)
    )
    """
)


def safe_head(conn: Connection) -> int:
    """The highest position below which every event is final (committed or never will be).

    On PostgreSQL positions can become visible out of order; like ``EventStore.read_all``,
    only events written by transactions below the safe horizon count (see above).
    """
    if conn.dialect.name != "postgresql":
        return int(conn.execute(sa.select(sa.func.max(events.c.position))).scalar() or 0)
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    horizon = conn.execute(SAFE_HORIZON).scalar_one()
    query = sa.select(sa.func.max(events.c.position)).where(events.c.tx_id < horizon)
    return int(conn.execute(query).scalar() or 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_recorded(row: sa.Row[Any]) -> RecordedEvent:
    return RecordedEvent(
        position=row.position,
        stream_id=row.stream_id,
        version=row.version,
        type=row.type,
        schema_version=row.schema_version,
        data=row.data,
        meta=row.meta,
        recorded_at=as_utc(row.recorded_at),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def original_result(row: sa.Row[Any], *, stream_id: str) -> AppendResult:
    """The result of a command found in ``commands``: what its first append did."""
    return AppendResult(
        stream_id=stream_id,
        first_version=row.first_version,
        last_version=row.last_version,
        last_position=row.last_position,
        duplicate=True,
    )


class _NewStream(NamedTuple):
    """The heads query's answer for a stream nobody has written yet."""

    original_stream_id: None = None
    head_version: None = None
    head_hash: None = None


_NEW_STREAM = _NewStream()


def _nothing_sent(conn: Connection) -> bool:
    """Whether this transaction has sent no statement yet: psycopg begins a transaction with
    its first statement, so until then the connection is idle (asked of the driver, no round
    trip)."""
    info = getattr(conn.connection.driver_connection, "info", None)
    return info is not None and info.transaction_status == TransactionStatus.IDLE


def command_row(asked: StreamAppend, recorded_at: Any) -> dict[str, Any]:
    """The ``commands`` row of one stream's append, but for its last position."""
    return {
        "command_id": asked.meta.command_id,
        "stream_id": asked.stream_id,
        "first_version": asked.expected_version + 1,
        "last_version": asked.expected_version + len(asked.events),
        "recorded_at": recorded_at,
    }


def appended_result(asked: StreamAppend, last_position: int) -> AppendResult:
    return AppendResult(
        stream_id=asked.stream_id,
        first_version=asked.expected_version + 1,
        last_version=asked.expected_version + len(asked.events),
        last_position=last_position,
    )


def new_rows(asked: StreamAppend, prev_hash: str, recorded_at: datetime) -> list[NewRow]:
    """The ``events`` rows of one stream's append, each chained to the one before."""
    meta = asked.meta.as_dict()
    rows: list[NewRow] = []
    for version, event in enumerate(asked.events, start=asked.expected_version + 1):
        data = event.payload()
        digest = event_hash(
            prev_hash=prev_hash,
            stream_id=asked.stream_id,
            version=version,
            type=event.type,
            schema_version=event.schema_version,
            data=data,
            meta=meta,
            recorded_at=recorded_at,
        )
        rows.append(
            {
                "stream_id": asked.stream_id,
                "version": version,
                "type": event.type,
                "schema_version": event.schema_version,
                "data": data,
                "meta": meta,
                "recorded_at": recorded_at,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    return rows


_derived = ContextVar("derived_writes", default=False)


@contextmanager
def derived_writes() -> Iterator[None]:
    """Appends in this block (this thread) commit without waiting for their WAL flush.

    For writers whose every event is derived from events already in the log and is written
    again if a crash loses it — the workers' jobs: a lost ``CaseDispatched`` is routed again
    by the reconciler, a lost warning is raised again by the next timer scan. Waiting for
    each commit's flush kept a routing job idle most of its time. Intake never runs in here:
    a case answered 201 is on disk.
    """
    token = _derived.set(True)
    try:
        yield
    finally:
        _derived.reset(token)


class EventStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction for callers that append and write other rows atomically."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as error:
            raise StoreUnavailable(str(error.orig)) from error

    def append(
        self,
        stream_id: str,
        new_events: Sequence[Event],
        *,
        expected_version: int,
        meta: Meta,
        conn: Connection | None = None,
        now: datetime | None = None,
        new_stream: bool = False,
    ) -> AppendResult:
        """Append ``new_events`` after ``expected_version`` (0 for a new stream).

        Raises ``ConcurrencyError`` when the stream has moved on. A ``meta.command_id``
        already in the log appends nothing and returns the original result.
        ``new_stream``: the caller made the stream id and the command id just now (intake's
        new case), so there is no head or earlier command to look up first.
        """
        asked = StreamAppend(stream_id, new_events, expected_version, meta)
        return self.append_many([asked], conn=conn, now=now, new_streams=new_stream)[0]

    def append_many(
        self,
        appends: Sequence[StreamAppend],
        *,
        conn: Connection | None = None,
        now: datetime | None = None,
        new_streams: bool = False,
    ) -> list[AppendResult]:
        """Append to several streams at once, all or nothing: one transaction, one insert.

        Each stream is checked and answered as ``append`` would (results in the order
        given); a stream whose command is in the log already appends nothing and gets its
        original result. ``ConcurrencyError`` if any stream has moved on: nothing is
        appended, and the caller decides again (stream by stream, if it likes).
        ``new_streams``: as ``append``'s ``new_stream``, for every stream.
        """
        if any(not asked.events for asked in appends):
            raise ValueError("append needs at least one event")
        if len({asked.stream_id for asked in appends}) != len(appends):
            raise ValueError("append_many takes each stream once")
        new_streams = new_streams and all(asked.expected_version == 0 for asked in appends)
        if conn is None:
            with self.transaction() as own:
                return self._append_all(own, appends, now, new_streams)
        return self._append_all(conn, appends, now, new_streams)

    def _append_all(
        self,
        conn: Connection,
        appends: Sequence[StreamAppend],
        now: datetime | None,
        new_streams: bool,
    ) -> list[AppendResult]:
        if new_streams and self._postgres and not _derived.get() and _nothing_sent(conn):
            # Nothing to look up, and the append is the transaction's first statement (so
            # its first write): the round trip before the lock is spared. A stream or command
            # that existed after all would still fail the insert (a lost race).
            found: Sequence[Any] = [_NEW_STREAM] * len(appends)
        else:
            found = self._heads(conn, appends)
        recorded_at = as_utc(now or utcnow())
        originals: dict[str, AppendResult] = {}  # stream → its command's first result
        rows: list[NewRow] = []
        written: list[StreamAppend] = []
        for asked, head in zip(appends, found, strict=True):
            if head.original_stream_id is not None:
                originals[asked.stream_id] = original_result(
                    head, stream_id=head.original_stream_id
                )
                continue
            actual_version = head.head_version or 0
            if actual_version != asked.expected_version:
                raise ConcurrencyError(asked.stream_id, asked.expected_version, actual_version)
            rows += new_rows(asked, head.head_hash or GENESIS, recorded_at)
            written.append(asked)
        last_positions: dict[str, int] = {}
        if written:
            last_positions = self._insert(conn, rows, written, recorded_at)
        return [
            originals.get(asked.stream_id)
            or appended_result(asked, last_positions[asked.stream_id])
            for asked in appends
        ]

    def _insert(
        self,
        conn: Connection,
        rows: list[NewRow],
        written: Sequence[StreamAppend],
        recorded_at: datetime,
    ) -> dict[str, int]:
        """Insert the rows and record each stream's command; each stream's last position."""
        try:
            if self._postgres:
                return self._insert_postgres(conn, rows, written, recorded_at)
            return self._insert_sqlite(conn, rows, written, recorded_at)
        except IntegrityError as error:
            # Another writer took a version, or the same command raced us; either way the
            # caller rolls back, reloads and decides again (and then finds the command).
            first = written[0]
            raise ConcurrencyError(
                first.stream_id, first.expected_version, first.expected_version + 1
            ) from error

    def _heads(self, conn: Connection, appends: Sequence[StreamAppend]) -> Sequence[Any]:
        """Per stream, before the lock: was its command appended already (and with what
        result), and where is its head?"""
        if not self._postgres:
            return [
                conn.execute(
                    COMMAND_AND_HEAD,
                    {"command_id": asked.meta.command_id, "stream_id": asked.stream_id},
                ).one()
                for asked in appends
            ]
        if len(appends) == 1:
            sql, defaults = COMMAND_AND_HEAD_PG[_derived.get()]
            one = {"command_id": appends[0].meta.command_id, "stream_id": appends[0].stream_id}
            found = conn.exec_driver_sql(sql, {**defaults, **one}).all()
        else:
            found = conn.exec_driver_sql(
                HEADS_PG[_derived.get()],
                {
                    "stream_ids": [asked.stream_id for asked in appends],
                    "command_ids": [asked.meta.command_id for asked in appends],
                },
            ).all()
        if not found[0].fresh_transaction:
            raise AppendNotFirst(
                "an append must be the first write of its transaction (safe tailing relies "
                "on the transaction id being assigned under the log lock); write other rows "
                "after the append in the same transaction"
            )
        return found

    @staticmethod
    def _insert_postgres(
        conn: Connection,
        rows: list[NewRow],
        written: Sequence[StreamAppend],
        recorded_at: datetime,
    ) -> dict[str, int]:
        """Lock, insert, unlock and record the commands in one round trip; each stream's
        last position.

        See ``SERIALISED_INSERT``. Conflicts do not raise inside the statement (it holds a
        session lock then); fewer rows than asked for, or a command not recorded, means a
        lost race.
        """
        # The rows as one JSON document: one parameter for the driver to adapt instead of
        # nine arrays (the adaptation was a fifth of an append's interpreter time).
        stamp = recorded_at.isoformat()
        document = json.dumps([{**row, "n": n, "recorded_at": stamp} for n, row in enumerate(rows)])
        recorded = [command_row(asked, stamp) for asked in written]
        params = {"rows": document, "lock": EVENT_LOG_LOCK, "expected_rows": len(rows)}
        if len(recorded) == 1:
            sql, params = SERIALISED_INSERT_PG["one"], params | recorded[0]
        else:
            sql, params = SERIALISED_INSERT_PG["many"], params | {"commands": json.dumps(recorded)}
        try:
            outcome = conn.exec_driver_sql(sql, params).all()
        except BaseException:
            # The statement died (cancelled, timed out) and may still hold the session lock:
            # the pool releases it when the connection comes back (``events.database``).
            conn.info["may_hold_log_lock"] = True
            raise
        last_positions = {
            row.stream_id: int(row.last_position) for row in outcome if row.stream_id is not None
        }
        if outcome[0].rows != len(rows) or len(last_positions) != len(written):
            raise IntegrityError("append lost a race", None, Exception("lost race"))
        return last_positions

    @staticmethod
    def _insert_sqlite(
        conn: Connection,
        rows: list[NewRow],
        written: Sequence[StreamAppend],
        recorded_at: datetime,
    ) -> dict[str, int]:
        """The transaction began with ``BEGIN IMMEDIATE``: it already holds the write lock."""
        positions = conn.execute(
            events.insert().returning(
                events.c.stream_id, events.c.position, sort_by_parameter_order=True
            ),
            rows,
        ).all()
        last_positions: dict[str, int] = {}
        for stream_id, position in positions:
            last_positions[stream_id] = max(position, last_positions.get(stream_id, 0))
        conn.execute(
            commands.insert(),
            [
                command_row(asked, recorded_at) | {"last_position": last_positions[asked.stream_id]}
                for asked in written
            ],
        )
        return last_positions

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def reading(self, conn: Connection | None = None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        try:
            with read_only_connection(self.engine) as own:
                yield own
        except OperationalError as error:
            raise StoreUnavailable(str(error.orig)) from error

    def command_result(
        self, command_id: str, *, conn: Connection | None = None
    ) -> AppendResult | None:
        with self.reading(conn) as c:
            row = c.execute(sa.select(commands).where(commands.c.command_id == command_id)).first()
        return None if row is None else original_result(row, stream_id=row.stream_id)

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, conn: Connection | None = None
    ) -> list[RecordedEvent]:
        query = (
            sa.select(events)
            .where(events.c.stream_id == stream_id, events.c.version > after_version)
            .order_by(events.c.version)
        )
        with self.reading(conn) as c:
            return [to_recorded(row) for row in c.execute(query)]

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        """Several whole streams (a routing batch's cases) in a query or a few, by id."""
        found: dict[str, list[RecordedEvent]] = {stream_id: [] for stream_id in stream_ids}
        ids = list(found)
        with self.reading() as c:
            for start in range(0, len(ids), STREAMS_PER_QUERY):
                query = (
                    sa.select(events)
                    .where(events.c.stream_id.in_(ids[start : start + STREAMS_PER_QUERY]))
                    .order_by(events.c.stream_id, events.c.version)
                )
                for row in c.execute(query):
                    found[row.stream_id].append(to_recorded(row))
        return found

    def stream_version(self, stream_id: str, *, conn: Connection | None = None) -> int:
        query = sa.select(sa.func.max(events.c.version)).where(events.c.stream_id == stream_id)
        with self.reading(conn) as c:
            return c.execute(query).scalar() or 0

    def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        conn: Connection | None = None,
        settle: float = 0.5,
    ) -> list[RecordedEvent]:
        """Events after ``after`` in position order; safe to tail (see module docstring).

        On PostgreSQL, committed events can sit beyond the safe horizon while an older
        transaction is still running; for up to ``settle`` seconds this waits for that
        transaction to finish, so a reader right behind a writer sees its events.
        """
        rows = self._read_safe(after, limit, conn)
        if not self._postgres or settle <= 0 or len(rows) == limit:
            return rows
        deadline = time.monotonic() + settle
        while self._beyond_horizon(rows[-1].position if rows else after, conn):
            if time.monotonic() >= deadline:
                break
            time.sleep(SETTLE_POLL)
            rows = self._read_safe(after, limit, conn, again=True)
            if len(rows) == limit:
                break
        return rows

    def _read_safe(
        self, after: int, limit: int, conn: Connection | None, *, again: bool = False
    ) -> list[RecordedEvent]:
        query = sa.select(events).where(events.c.position > after)
        with self.reading(conn) as c:
            if self._postgres:
                # The horizon is taken first, in its own statement, so every transaction
                # below it had finished before the events query takes its snapshot.
                # PostgreSQL keeps the first ``pg_stat_activity`` it reads for the rest of
                # the transaction; an old horizon is still safe (only older), so it is
                # cleared only when asking again in the same transaction.
                if again:
                    c.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
                horizon = c.execute(SAFE_HORIZON).scalar_one()
                query = query.where(events.c.tx_id < horizon)
            query = query.order_by(events.c.position).limit(limit)
            return [to_recorded(row) for row in c.execute(query)]

    def _beyond_horizon(self, last: int, conn: Connection | None) -> bool:
        """Is there a committed event after ``last`` that is not yet safe to hand out?"""
        query = sa.select(sa.exists().where(events.c.position > last))
        with self.reading(conn) as c:
            return bool(c.execute(query).scalar())

    def iter_all(self, *, after: int = 0, batch: int = 5000) -> Iterator[list[RecordedEvent]]:
        """Batches of the whole log from ``after``, in constant memory."""
        while True:
            chunk = self.read_all(after=after, limit=batch)
            if not chunk:
                return
            yield chunk
            after = chunk[-1].position

    def head_position(self, *, conn: Connection | None = None) -> int:
        with self.reading(conn) as c:
            return c.execute(sa.select(sa.func.max(events.c.position))).scalar() or 0
