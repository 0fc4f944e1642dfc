"""Reading the whole log fast, for replays (projection rebuilds), in constant memory.

``EventStore.read_all`` serves tailing readers: safe against out-of-order commits, a full
``RecordedEvent`` per row, ``data`` parsed into a dict. A replay of millions of events reads
what is already settled, and most of that per-row work is wasted on it:

- only the columns a fold needs are read (not ``meta``, ``hash``, ``prev_hash``, ``tx_id``);
- ``data`` arrives as JSON text and is parsed only if someone asks for ``data``:
  ``decode`` validates the text straight into the event class (pydantic parses JSON in one
  native pass, about three times faster than ``json.loads`` and ``model_validate``);
- on PostgreSQL rows come from a psycopg server-side cursor as plain tuples, without the
  per-row machinery of a SQLAlchemy ``Row``, fetched by a thread one page ahead of the fold.

Events read here are ``ScannedEvent``: a ``RecordedEvent`` whose ``meta`` is empty and whose
hashes are blank. They are for folding, never for auditing or re-appending.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from queue import Full, Queue
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.envelope import Event, RecordedEvent
from events.registry import EventRegistry
from events.schema import events
from events.store import as_utc

_EMPTY: dict[str, Any] = {}
PREFETCH = 2  # parts of a PostgreSQL scan fetched ahead of the replay
_FIELDS = ("position", "stream_id", "version", "type", "schema_version", "recorded_at")


class ScannedEvent(RecordedEvent):
    """A ``RecordedEvent`` that keeps its payload as JSON text until ``data`` is read."""

    raw: str

    @classmethod
    def make(
        cls,
        position: int,
        stream_id: str,
        version: int,
        type: str,
        schema_version: int,
        raw: str,
        recorded_at: datetime,
    ) -> ScannedEvent:
        # The frozen dataclass ``__init__`` sets ten fields one ``object.__setattr__`` at a
        # time; a replay builds a million of these, so the instance dict is filled at once.
        event = cls.__new__(cls)
        event.__dict__.update(
            position=position,
            stream_id=stream_id,
            version=version,
            type=type,
            schema_version=schema_version,
            raw=raw,
            meta=_EMPTY,
            recorded_at=recorded_at if recorded_at.tzinfo is UTC else as_utc(recorded_at),
            prev_hash="",
            hash="",
        )
        return event

    @property
    def data(self) -> dict[str, Any]:
        """The payload as a dict, parsed on first use (``decode`` never needs it)."""
        parsed = self.__dict__.get("_data")
        if parsed is None:
            parsed = self.__dict__["_data"] = json.loads(self.raw)
        return parsed  # type: ignore[no-any-return]


def decode(registry: EventRegistry, recorded: RecordedEvent) -> Event:
    """``registry.decode(recorded)``, straight from the JSON text of a ``ScannedEvent``.

    Only when the stored ``schema_version`` is the current one: an older payload goes
    through the registry's upcasters as a dict, exactly as ``registry.decode`` takes it.
    """
    cls = registry.class_for(recorded.type)
    if isinstance(recorded, ScannedEvent) and recorded.schema_version == cls.schema_version:
        return cls.model_validate_json(recorded.raw)
    return registry.decode(recorded)


def scan_streams(
    conn: Connection, upto: int, limit: int
) -> Generator[list[ScannedEvent], None, None]:
    """Pages of about ``limit`` events at or below position ``upto``, stream by stream in
    version order. A page ends where a stream ends, so every stream is in exactly one page:
    a fold sees it whole and never has to load what an earlier page made of it. (A page
    holds at most ``limit`` events plus one stream; whoever handles commands loads whole
    streams too.)

    One query read through a server-side cursor: the database sorts once (PostgreSQL picks a
    sequential scan and a sort), which is several times faster than paging through the
    (stream_id, version) index, whose rows lie all over the table. Whole streams per page
    let a fold load nothing and write each row once.
    """
    rows = _rows(conn, upto, limit)
    page: list[ScannedEvent] = []
    make = ScannedEvent.make
    try:
        for part in rows:
            for row in part:
                if len(page) >= limit and row[1] != page[-1].stream_id:
                    yield page
                    page = []
                page.append(make(*row))
        if page:
            yield page
    finally:
        rows.close()  # closed early: stop reading before the caller's connection goes


def _rows(conn: Connection, upto: int, limit: int) -> Generator[list[tuple[Any, ...]], None, None]:
    """Tuples in ``ScannedEvent.make`` order, ``limit`` at a time."""
    if conn.dialect.name == "postgresql":
        return _prefetched(_postgres_rows(conn, upto, limit))
    query = (
        sa.select(*(events.c[name] for name in _FIELDS[:5]))
        .add_columns(sa.cast(events.c.data, sa.Text), events.c.recorded_at)
        .where(events.c.position <= upto)
        .order_by(events.c.stream_id, events.c.version)
    )
    result = conn.execution_options(yield_per=limit).execute(query)
    return ([tuple(row) for row in part] for part in result.partitions())


def _postgres_rows(conn: Connection, upto: int, limit: int) -> Iterator[list[tuple[Any, ...]]]:
    """psycopg directly: a named (server-side) cursor in the caller's transaction, declared
    now; the parts are fetched as the returned iterator is read."""
    driver = conn.connection.driver_connection
    assert driver is not None
    # Times in UTC: psycopg then hands them back with ``datetime.UTC`` itself, which
    # ``ScannedEvent.make`` keeps as they are (converting a million costs seconds).
    conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
    cursor = driver.cursor(name="events_scan")
    cursor.itersize = limit
    cursor.execute(
        "SELECT position, stream_id, version, type, schema_version, "
        "CAST(data AS text), recorded_at FROM events WHERE position <= %s "
        "ORDER BY stream_id, version",
        (upto,),
    )

    def parts() -> Iterator[list[tuple[Any, ...]]]:
        with cursor:
            while part := cursor.fetchmany(limit):
                yield part

    return parts()


_DONE = object()


def _prefetched(
    parts: Iterator[list[tuple[Any, ...]]],
) -> Generator[list[tuple[Any, ...]], None, None]:
    """``parts`` read by a thread that fetches the next part while the caller works.

    A server-side cursor fetches only when asked, so without this the replay waits for the
    database (and the network) on every page, and the database waits for the replay in
    between. The thread waits with the GIL released; at most ``PREFETCH`` parts are held.
    The caller's connection is used by the thread alone until the thread is done, which
    is before this generator returns (or is closed).
    """
    queue: Queue[Any] = Queue(maxsize=PREFETCH)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def fetch() -> None:
        try:
            for part in parts:
                if not put(part):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the caller, raised there
            put(error)

    thread = threading.Thread(target=fetch, name="events-scan", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
