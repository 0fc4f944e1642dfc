"""The append-only event store.

Safe tailing — why a reader following ``position`` never skips an event:
PostgreSQL hands out identity values when a row is inserted, not when its transaction
commits, so a transaction that took position 7 can commit after one that took position 8.
A tailing reader that saw 8 and stored it as its checkpoint would never see 7.

We close that window by serialising appends: on PostgreSQL each append takes the
transaction-scoped advisory lock ``EVENT_LOG_LOCK`` immediately before it inserts into
``events`` and holds it until commit or rollback. Positions are therefore handed out and
made visible in the same order, and a reader that sees position N has already been able to
see every committed position below N. A rolled-back append leaves a gap in the numbers,
never a hole that fills later, so readers never wait on (or skip over) a gap on a timer.
All work that does not touch ``events`` (reading the stream head, checking the command id)
happens before the lock, so the serialised part is one insert and the commit.

SQLite needs no extra lock: every write transaction begins with ``BEGIN IMMEDIATE`` (see
``events.database``), so writers are already serialised end to end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from events.envelope import AppendResult, Event, Meta, RecordedEvent
from events.errors import ConcurrencyError, StoreUnavailable
from events.hashing import GENESIS, event_hash
from events.schema import commands, events

# Arbitrary constant: the advisory lock id that serialises appends on PostgreSQL.
EVENT_LOG_LOCK = 0x5357_4C4F47  # "SWLOG"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_recorded(row: sa.Row) -> RecordedEvent:
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
    ) -> AppendResult:
        """Append ``new_events`` after ``expected_version`` (0 for a new stream).

        Raises ``ConcurrencyError`` when the stream has moved on. A ``meta.command_id``
        already in the log appends nothing and returns the original result.
        """
        if not new_events:
            raise ValueError("append needs at least one event")
        if conn is None:
            with self.transaction() as own:
                return self._append(own, stream_id, new_events, expected_version, meta, now)
        return self._append(conn, stream_id, new_events, expected_version, meta, now)

    def _append(
        self,
        conn: Connection,
        stream_id: str,
        new_events: Sequence[Event],
        expected_version: int,
        meta: Meta,
        now: datetime | None,
    ) -> AppendResult:
        original = self.command_result(meta.command_id, conn=conn)
        if original is not None:
            return original
        head = conn.execute(
            sa.select(events.c.version, events.c.hash)
            .where(events.c.stream_id == stream_id)
            .order_by(events.c.version.desc())
            .limit(1)
        ).first()
        actual_version, prev_hash = (head.version, head.hash) if head else (0, GENESIS)
        if actual_version != expected_version:
            raise ConcurrencyError(stream_id, expected_version, actual_version)

        recorded_at = as_utc(now or utcnow())
        meta_dict = meta.as_dict()
        rows = []
        for offset, event in enumerate(new_events, start=1):
            version = expected_version + offset
            data = event.payload()
            digest = event_hash(
                prev_hash=prev_hash,
                stream_id=stream_id,
                version=version,
                type=event.type,
                schema_version=event.schema_version,
                data=data,
                meta=meta_dict,
                recorded_at=recorded_at,
            )
            rows.append(
                {
                    "stream_id": stream_id,
                    "version": version,
                    "type": event.type,
                    "schema_version": event.schema_version,
                    "data": data,
                    "meta": meta_dict,
                    "recorded_at": recorded_at,
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            prev_hash = digest

        if self._postgres:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(EVENT_LOG_LOCK)))
        try:
            positions = conn.execute(
                events.insert().returning(events.c.position, sort_by_parameter_order=True),
                rows,
            ).scalars()
            last_position = max(positions)
            conn.execute(
                commands.insert().values(
                    command_id=meta.command_id,
                    stream_id=stream_id,
                    first_version=expected_version + 1,
                    last_version=expected_version + len(rows),
                    last_position=last_position,
                    recorded_at=recorded_at,
                )
            )
        except IntegrityError as error:
            # Another writer took the version, or the same command raced us; either way the
            # caller rolls back, reloads and decides again (and then finds the command).
            raise ConcurrencyError(stream_id, expected_version, expected_version + 1) from error
        return AppendResult(
            stream_id=stream_id,
            first_version=expected_version + 1,
            last_version=expected_version + len(rows),
            last_position=last_position,
        )

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def reading(self, conn: Connection | None = None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        try:
            with self.engine.connect().execution_options(read_only=True) as own:
                yield own
        except OperationalError as error:
            raise StoreUnavailable(str(error.orig)) from error

    def command_result(
        self, command_id: str, *, conn: Connection | None = None
    ) -> AppendResult | None:
        with self.reading(conn) as c:
            row = c.execute(sa.select(commands).where(commands.c.command_id == command_id)).first()
        if row is None:
            return None
        return AppendResult(
            stream_id=row.stream_id,
            first_version=row.first_version,
            last_version=row.last_version,
            last_position=row.last_position,
            duplicate=True,
        )

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

    def stream_version(self, stream_id: str, *, conn: Connection | None = None) -> int:
        query = sa.select(sa.func.max(events.c.version)).where(events.c.stream_id == stream_id)
        with self.reading(conn) as c:
            return c.execute(query).scalar() or 0

    def read_all(
        self, *, after: int = 0, limit: int = 1000, conn: Connection | None = None
    ) -> list[RecordedEvent]:
        """Events after ``after`` in position order; safe to tail (see module docstring)."""
        query = (
            sa.select(events)
            .where(events.c.position > after)
            .order_by(events.c.position)
            .limit(limit)
        )
        with self.reading(conn) as c:
            return [to_recorded(row) for row in c.execute(query)]

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
