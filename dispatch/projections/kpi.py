"""The KPI projection (三率): per-task and per-case facts, and their daily rollup.

Each batch costs a handful of set-based statements however many events it holds: load the
rows of every case the batch touches, fold the events in memory (``kpi_facts``), delete the
changed rows and insert them again in bulk (``bulk``: ``COPY`` on PostgreSQL), and add to
``kpi_daily`` the difference between the rows' contributions after and before the batch
(``kpi_rollup``) in one upsert. That is cheaper than one ``UPDATE`` per row when a rebuild
folds millions of events, and ``dispatch.queries.kpis`` then sums days, not tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.domain.events import registry
from dispatch.projections.base import Projection
from dispatch.projections.bulk import add_to, among, delete_keys, insert_rows, key_chunks
from dispatch.projections.kpi_facts import KPI_EVENT_TYPES, CaseFacts, KpiFold, Row, blank_case
from dispatch.projections.kpi_rollup import (
    Deltas,
    Key,
    case_contributions,
    settle_at,
    task_contributions,
)
from dispatch.projections.kpi_tables import define_kpi_tables
from events import RecordedEvent, as_utc, decode


def _moments(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if isinstance(c.type, sa.DateTime))


def _utc_row(row: sa.Row, moments: Sequence[str]) -> Row:
    """A stored row as a dict, with times aware UTC whichever driver read them
    (SQLite hands them back naive)."""
    values = dict(row._mapping)
    for name in moments:
        if values[name] is not None:
            values[name] = as_utc(values[name])
    return values


def in_time_order(conn: Connection, table: sa.Table, column: str) -> None:
    """Rewrite a freshly filled table in ``column`` order (PostgreSQL).

    A fill writes the facts stream by stream, i.e. in case-id order, at random in time, so a
    month's rows lay in nearly every block of the table: an ``as_of`` or part-day query read
    ten times the blocks it needed (at a million cases, most of its time). Rows the live
    runner rewrites later go wherever there is room, but a finished month stays in order.
    """
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    name, order = quote(table.name), quote(f"{table.name}_time_order")
    conn.exec_driver_sql(f"CREATE INDEX {order} ON {name} ({quote(column)})")
    conn.exec_driver_sql(f"CLUSTER {name} USING {order}")
    conn.exec_driver_sql(f"DROP INDEX {order}")


# Rows of ``kpi_daily`` a fill holds back at most (a few megabytes; see ``fill``).
HOLD_ROWS = 50_000

# The local days of the rollup and the day columns: Beijing time, the 12345 centres' day.
KPI_TIMEZONE = "Asia/Shanghai"


class KpiProjection(Projection):
    name: ClassVar[str] = "kpi"
    # 2: nature (诉求性质) as a dimension; parked cases out of the closure and timeliness
    # denominators (the ``parked`` count, park/unpark in the case log).
    # 3: 双考核, the streets' rating of summoned tasks (``street_rating``, ``evaluated_at`` on
    # kpi_tasks; the ``evaluated`` and ``street_*`` counts in kpi_daily).
    # 4: when the last extension, callback and park change came (``extended_at``,
    # ``first_callback_at``, ``callback_at``, ``park_changed_at``), so that ``as_of`` reads
    # the logs only for the rows changed since; the rollup's covering index.
    version: ClassVar[int] = 4
    per_stream: ClassVar[bool] = True  # every fact is one case's: streams fold independently

    def __init__(self, timezone: str = KPI_TIMEZONE) -> None:
        self.fold = KpiFold(ZoneInfo(timezone))
        # A fill's rollup, held back across pages: (the tables it is for, the sums).
        self._held: tuple[dict[str, sa.Table], Deltas] | None = None

    def define(self, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        return define_kpi_tables(metadata, suffix)

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        self._apply(conn, tables, batch, fresh=False)

    def fill(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        """``apply`` for streams the tables have never seen: every case starts blank (so it
        contributes nothing before the fold) and there is nothing to load or delete.

        The rollup is held back across pages (up to ``HOLD_ROWS`` rows, then added) and
        added by ``fill_done``: a page of whole streams touches thousands of ``kpi_daily``
        rows, most of which the next pages touch again, and upserting every page's share
        took a quarter of a rebuild. The sums are the same however they are grouped.
        """
        self._apply(conn, tables, batch, fresh=True)

    def fill_done(self, conn: Connection, tables: dict[str, sa.Table]) -> None:
        if self._held is not None and self._held[0] is tables:
            self._add_rollup(conn, tables, self._held[1])
        self._held = None
        in_time_order(conn, tables["tasks"], "dispatched_at")
        in_time_order(conn, tables["cases"], "received_at")

    def _held_rollup(self, tables: dict[str, sa.Table]) -> Deltas:
        # Keyed by the tables: a fill that died half-way leaves nothing for the next one.
        if self._held is None or self._held[0] is not tables:
            self._held = (tables, Deltas())
        return self._held[1]

    def _add_rollup(self, conn: Connection, tables: dict[str, sa.Table], rollup: Deltas) -> None:
        add_to(conn, tables["daily"], rollup.changed())
        self._drop_empty(conn, tables["daily"], rollup.shrunk())

    def _apply(
        self,
        conn: Connection,
        tables: dict[str, sa.Table],
        batch: Sequence[RecordedEvent],
        *,
        fresh: bool,
    ) -> None:
        relevant = [recorded for recorded in batch if recorded.type in KPI_EVENT_TYPES]
        if not relevant:
            return
        case_ids = sorted({r.stream_id for r in relevant})
        if fresh:
            facts = {case_id: CaseFacts(case=blank_case(case_id)) for case_id in case_ids}
        else:
            facts = self._load(conn, tables, case_ids)
        rollup = self._held_rollup(tables) if fresh else Deltas()
        self._contributions(rollup, facts.values(), sign=-1)  # before the fold changes them
        for recorded in relevant:
            self.fold.apply(facts[recorded.stream_id], recorded, decode(registry, recorded))
        dirty = [case for case in facts.values() if case.dirty]
        for case in dirty:
            KpiFold.copy_outcome(case)
            for task_id in case.dirty_tasks:
                case.tasks[task_id]["settle_at"] = settle_at(case.tasks[task_id])
        self._contributions(rollup, facts.values(), sign=+1)
        self._write(conn, tables, dirty)
        if not fresh:
            self._add_rollup(conn, tables, rollup)
        elif len(rollup.rows) >= HOLD_ROWS:
            self._add_rollup(conn, tables, rollup)
            self._held = None  # (the live runner's ``apply`` never touches what is held)

    @staticmethod
    def _drop_empty(conn: Connection, daily: sa.Table, keys: list[Key]) -> None:
        """Rollup rows whose tasks and cases all left (merged, say) go, as in a rebuild."""
        for dimension, key, day in keys:
            conn.execute(
                daily.delete().where(
                    daily.c.dimension == dimension,
                    daily.c.day == day,
                    daily.c.key == key,
                    daily.c.dispatched == 0,
                    daily.c.received == 0,
                )
            )

    @staticmethod
    def _contributions(rollup: Deltas, facts: Iterable[CaseFacts], *, sign: int) -> None:
        for case in facts:
            rollup.add(case_contributions(case.case), sign)
            for task in case.tasks.values():
                rollup.add(task_contributions(task), sign)

    def _load(
        self, conn: Connection, tables: dict[str, sa.Table], case_ids: list[str]
    ) -> dict[str, CaseFacts]:
        cases, tasks = tables["cases"], tables["tasks"]
        facts = {case_id: CaseFacts(case=blank_case(case_id)) for case_id in case_ids}
        case_moments, task_moments = _moments(cases), _moments(tasks)
        for part in key_chunks(conn, case_ids):
            for row in conn.execute(sa.select(cases).where(among(conn, cases.c.case_id, part))):
                found = facts[row.case_id]
                found.case = _utc_row(row, case_moments)
                found.stored = True
            for row in conn.execute(sa.select(tasks).where(among(conn, tasks.c.case_id, part))):
                found = facts[row.case_id]
                found.tasks[row.task_id] = _utc_row(row, task_moments)
                found.stored_tasks.add(row.task_id)
        return facts

    def _write(self, conn: Connection, tables: dict[str, sa.Table], dirty: list[CaseFacts]) -> None:
        stale_cases = [f.case["case_id"] for f in dirty if f.stored]
        stale_tasks = [t for f in dirty for t in f.dirty_tasks if t in f.stored_tasks]
        delete_keys(conn, tables["cases"], "case_id", stale_cases)
        delete_keys(conn, tables["tasks"], "task_id", stale_tasks)
        insert_rows(conn, tables["cases"], [f.case for f in dirty])
        insert_rows(conn, tables["tasks"], [f.tasks[t] for f in dirty for t in f.dirty_tasks])
        insert_rows(conn, tables["case_log"], [row for f in dirty for row in f.case_log])
        insert_rows(conn, tables["extensions"], [row for f in dirty for row in f.extensions])
