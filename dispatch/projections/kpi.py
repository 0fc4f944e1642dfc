"""The KPI projection (三率): per-task and per-case facts that ``dispatch.queries.kpis`` sums.

Each batch costs a handful of set-based statements however many events it holds: load the
rows of every case the batch touches (one ``IN`` query per table and chunk), fold the events
in memory (``kpi_facts``), then delete the changed rows and insert them again with one
multi-row ``INSERT`` per table. Both statements are the same on PostgreSQL and SQLite, and
cheaper than one ``UPDATE`` per row when a rebuild folds millions of events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.domain.events import registry
from dispatch.projections.base import Projection
from dispatch.projections.kpi_facts import KPI_EVENT_TYPES, CaseFacts, KpiFold, Row, blank_case
from dispatch.projections.kpi_tables import define_kpi_tables
from events import RecordedEvent
from events.store import as_utc

# Bound parameters per IN list: well under SQLite's limit, and short enough to plan fast.
CHUNK = 2000

_MOMENT_COLUMNS = {
    "tasks": (
        "dispatched_at",
        "sign_by",
        "sign_warn_at",
        "signed_at",
        "contact_by",
        "contact_warn_at",
        "contacted_at",
        "original_reply_by",
        "reply_by",
        "reply_warn_at",
        "replied_at",
        "returned_at",
        "cancelled_at",
        "superseded_at",
        "excluded_at",
        "case_closed_at",
        "case_first_closed_at",
        "case_reopened_at",
    ),
    "cases": (
        "received_at",
        "recorded_at",
        "excluded_at",
        "case_closed_at",
        "case_first_closed_at",
        "case_reopened_at",
        "callback_at",
    ),
}


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _utc_row(row: sa.Row, moments: Sequence[str]) -> Row:
    """A stored row as a dict, with times aware UTC whichever driver read them."""
    values = dict(row._mapping)
    for name in moments:
        if values[name] is not None:
            values[name] = as_utc(values[name])
    return values


class KpiProjection(Projection):
    name: ClassVar[str] = "kpi"
    version: ClassVar[int] = 1

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self.fold = KpiFold(ZoneInfo(timezone))

    def define(self, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        return define_kpi_tables(metadata, suffix)

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        relevant = [recorded for recorded in batch if recorded.type in KPI_EVENT_TYPES]
        if not relevant:
            return
        facts = self._load(conn, tables, sorted({r.stream_id for r in relevant}))
        for recorded in relevant:
            self.fold.apply(facts[recorded.stream_id], recorded, registry.decode(recorded))
        for case in facts.values():
            if case.dirty:
                KpiFold.copy_outcome(case)
        self._write(conn, tables, [case for case in facts.values() if case.dirty])

    def _load(
        self, conn: Connection, tables: dict[str, sa.Table], case_ids: list[str]
    ) -> dict[str, CaseFacts]:
        cases, tasks = tables["cases"], tables["tasks"]
        facts = {case_id: CaseFacts(case=blank_case(case_id)) for case_id in case_ids}
        for part in chunks(case_ids):
            for row in conn.execute(sa.select(cases).where(cases.c.case_id.in_(part))):
                found = facts[row.case_id]
                found.case = _utc_row(row, _MOMENT_COLUMNS["cases"])
                found.stored = True
            for row in conn.execute(sa.select(tasks).where(tasks.c.case_id.in_(part))):
                found = facts[row.case_id]
                found.tasks[row.task_id] = _utc_row(row, _MOMENT_COLUMNS["tasks"])
                found.stored_tasks.add(row.task_id)
        return facts

    def _write(self, conn: Connection, tables: dict[str, sa.Table], dirty: list[CaseFacts]) -> None:
        if not dirty:
            return
        cases, tasks = tables["cases"], tables["tasks"]
        stale_cases = [f.case["case_id"] for f in dirty if f.stored]
        stale_tasks = [t for f in dirty for t in f.dirty_tasks if t in f.stored_tasks]
        for part in chunks(stale_cases):
            conn.execute(cases.delete().where(cases.c.case_id.in_(part)))
        for part in chunks(stale_tasks):
            conn.execute(tasks.delete().where(tasks.c.task_id.in_(part)))
        conn.execute(cases.insert(), [f.case for f in dirty])
        task_rows = [f.tasks[t] for f in dirty for t in sorted(f.dirty_tasks)]
        if task_rows:
            conn.execute(tasks.insert(), task_rows)
        case_log = [row for f in dirty for row in f.case_log]
        if case_log:
            conn.execute(tables["case_log"].insert(), case_log)
        extensions = [row for f in dirty for row in f.extensions]
        if extensions:
            conn.execute(tables["extensions"].insert(), extensions)
