"""The ledger's cases as the log stood at ``as_of`` (§8.5): only cases received by then, each
with its status, tasks, deadlines and lateness as they were at that instant.

The case list holds only the present, so the rows are rebuilt from the log, by the case list's
own pure row functions (``dispatch.projections.case_rows``): a row at ``as_of`` is the row the
projection held then. The events come in one ordered scan: those recorded before ``as_of``,
in position order, keyset-paged ``PAGE`` at a time, and only of the streams of the cases the
ledger's window asks for (received in ``[start, end)`` per the case list), so other cases'
events are never read.

Cost: time linear in the events of those cases up to ``as_of`` (an indexed read of the
window's case ids, then the log scan); memory one small dict per case and per task of the
window (about 2 KB a case), because a case's last event may come at the end of the scan.
A month of a busy centre (tens of thousands of cases) is tens of MB; an export ``as_of``
without ``from``/``to`` rebuilds every case received by then, so it is for audits, not for
the daily download.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.domain import events as ev
from dispatch.domain.events import registry
from dispatch.projections.case_list import live_tables
from dispatch.projections.case_rows import CaseRows, apply_event, derive, new_case
from events import RecordedEvent, UnknownEventType, as_utc, event_table

PAGE = 2000  # events per page of the scan


def cases_as_of(
    conn: Connection,
    as_of: datetime,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[CaseRows]:
    """Every case received in ``[start, end)`` whose ``CaseReceived`` was recorded before
    ``as_of``, folded from its events recorded before ``as_of``; by received time, then id."""
    as_of = as_of.astimezone(UTC)
    cases: dict[str, CaseRows] = {}
    for recorded in _scan(conn, as_of, _window(start, end)):
        rows = cases.get(recorded.stream_id)
        event = _decode(recorded)
        if rows is None:
            if isinstance(event, ev.CaseReceived):
                cases[recorded.stream_id] = new_case(recorded, event)
            continue
        if event is not None:
            apply_event(rows, recorded, event)
    for rows in cases.values():
        derive(rows)
    return sorted(cases.values(), key=lambda r: (as_utc(r.case["received_at"]), r.case["id"]))


def as_ledger_row(rows: CaseRows) -> tuple[SimpleNamespace, SimpleNamespace | None]:
    """The case as a case-list row and its lead task (the latest lead dispatch), in the
    shape the ledger reads from the projection."""
    leads = sorted(
        (t for t in rows.tasks.values() if t["role"] == "lead"),
        key=lambda t: t["dispatched_version"],
    )
    return SimpleNamespace(**rows.case), (SimpleNamespace(**leads[-1]) if leads else None)


def _window(start: datetime | None, end: datetime | None) -> sa.Select[Any]:
    """The ids of the cases received in ``[start, end)``, from the case list."""
    cases = live_tables()["case_list"]
    query = sa.select(cases.c.id)
    if start is not None:
        query = query.where(cases.c.received_at >= start.astimezone(UTC))
    if end is not None:
        query = query.where(cases.c.received_at < end.astimezone(UTC))
    return query


def _scan(conn: Connection, as_of: datetime, streams: sa.Select[Any]) -> Iterator[RecordedEvent]:
    e = event_table.c
    columns = (e.position, e.stream_id, e.version, e.type, e.schema_version, e.data)
    after = 0
    while True:
        page = conn.execute(
            sa.select(*columns, e.recorded_at)
            .where(e.position > after, e.recorded_at < as_of, e.stream_id.in_(streams))
            .order_by(e.position)
            .limit(PAGE)
        ).all()
        for row in page:
            yield RecordedEvent(
                *row[:6], meta={}, recorded_at=as_utc(row.recorded_at), prev_hash="", hash=""
            )
        if len(page) < PAGE:
            return
        after = page[-1].position


def _decode(recorded: RecordedEvent) -> Any:
    try:
        return registry.decode(recorded)
    except UnknownEventType:
        return None  # a type the case list does not know changes nothing it shows
