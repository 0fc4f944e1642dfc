"""巡查台账: one row per grid, day and round that was reported or raised as missed.

Rounds that are neither (not yet due, or due and not yet scanned) have no row; the queries
(``dispatch.queries.patrols``) lay the catalogue's rounds over these rows. Applying is
idempotent: a report fills its row once, a miss only sets a flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.domain.events import PatrolReported, PatrolReportMissed, registry
from dispatch.projections.base import Projection
from events import RecordedEvent
from events.types import UtcDateTime

HANDLED = frozenset({"PatrolReported", "PatrolReportMissed"})


class PatrolReportsProjection(Projection):
    name = "patrol_reports"
    version = 1
    per_stream = True  # a row depends on its own grid-day stream only

    def define(self, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        code = sa.String(64)
        table = sa.Table(
            f"patrol_reports{suffix}",
            metadata,
            sa.Column("grid", code, primary_key=True),
            sa.Column("date", sa.Date, primary_key=True),
            sa.Column("round", sa.String(32), primary_key=True),
            sa.Column("street", code),
            sa.Column("due_at", UtcDateTime(), nullable=False),
            sa.Column("reported", sa.Boolean, nullable=False),
            sa.Column("reported_at", UtcDateTime()),
            sa.Column("report_id", sa.String(64)),
            sa.Column("zero", sa.Boolean),
            sa.Column("findings", sa.JSON, nullable=False),  # case ids
            sa.Column("note", sa.Text),
            sa.Column("reported_by", sa.String(64)),
            sa.Column("missed", sa.Boolean, nullable=False),  # PatrolReportMissed was raised
        )
        sa.Index(f"ix_patrol_reports{suffix}_date_street", table.c.date, table.c.street)
        return {"patrol_reports": table}

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        table = tables["patrol_reports"]
        for recorded in batch:
            if recorded.type not in HANDLED:
                continue
            event = registry.decode(recorded)
            if isinstance(event, PatrolReported):
                _reported(conn, table, event, recorded)
            elif isinstance(event, PatrolReportMissed):
                _missed(conn, table, event)


def _row(conn: Connection, table: sa.Table, grid: str, day: Any, round_: str) -> Any:
    key = (table.c.grid == grid, table.c.date == day, table.c.round == round_)
    return conn.execute(sa.select(table).where(*key)).first()


def _reported(
    conn: Connection, table: sa.Table, event: PatrolReported, recorded: RecordedEvent
) -> None:
    values = {
        "street": event.street,
        "due_at": event.due_at,
        "reported": True,
        "reported_at": recorded.recorded_at,
        "report_id": event.report_id,
        "zero": event.zero,
        "findings": list(event.findings),
        "note": event.note,
        "reported_by": event.by,
    }
    found = _row(conn, table, event.grid, event.date, event.round)
    if found is None:
        key = {"grid": event.grid, "date": event.date, "round": event.round}
        conn.execute(table.insert().values(**key, **values, missed=False))
    elif not found.reported:
        conn.execute(
            table.update()
            .where(
                table.c.grid == event.grid,
                table.c.date == event.date,
                table.c.round == event.round,
            )
            .values(**values)
        )


def _missed(conn: Connection, table: sa.Table, event: PatrolReportMissed) -> None:
    found = _row(conn, table, event.grid, event.date, event.round)
    if found is None:
        conn.execute(
            table.insert().values(
                grid=event.grid,
                date=event.date,
                round=event.round,
                street=event.street,
                due_at=event.due_at,
                reported=False,
                findings=[],
                missed=True,
            )
        )
    else:
        conn.execute(
            table.update()
            .where(
                table.c.grid == event.grid,
                table.c.date == event.date,
                table.c.round == event.round,
            )
            .values(missed=True)
        )


def live_tables() -> dict[str, sa.Table]:
    return PatrolReportsProjection().define(sa.MetaData())
