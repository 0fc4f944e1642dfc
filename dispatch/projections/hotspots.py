"""主动治理台账: one row per hotspot raised (``HotspotDetected``), keyed by its stream.

The ``hotspots`` worklist, the grid map's ``hotspots`` measure and the timer scan (which
skips pairs already raised) read it. Applying is idempotent: a stream's row is written once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.domain.events import HotspotDetected, registry
from dispatch.projections.base import Projection
from events import RecordedEvent
from events.types import UtcDateTime


class HotspotsProjection(Projection):
    name = "hotspots"
    version = 1
    per_stream = True  # a row depends on its own hotspot stream only

    def define(self, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        code = sa.String(64)
        table = sa.Table(
            f"hotspots{suffix}",
            metadata,
            sa.Column("stream", code, primary_key=True),
            sa.Column("grid", code, nullable=False),
            sa.Column("street", code),
            sa.Column("category", code, nullable=False),
            sa.Column("window_start", sa.Date, nullable=False),
            sa.Column("window_end", sa.Date, nullable=False),
            sa.Column("count", sa.Integer, nullable=False),
            sa.Column("cases", sa.JSON, nullable=False),  # case numbers, oldest first
            sa.Column("office", code),
            sa.Column("detected_at", UtcDateTime(), nullable=False),
        )
        sa.Index(f"ix_hotspots{suffix}_window_street", table.c.window_end, table.c.street)
        return {"hotspots": table}

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        table = tables["hotspots"]
        for recorded in batch:
            if recorded.type != "HotspotDetected":
                continue
            event = registry.decode(recorded)
            assert isinstance(event, HotspotDetected)
            found = conn.execute(
                sa.select(table.c.stream).where(table.c.stream == recorded.stream_id)
            ).first()
            if found is not None:
                continue
            conn.execute(
                table.insert().values(
                    stream=recorded.stream_id,
                    grid=event.grid,
                    street=event.street,
                    category=event.category,
                    window_start=event.window_start,
                    window_end=event.window_end,
                    count=len(event.cases),
                    cases=list(event.cases),
                    office=event.office,
                    detected_at=recorded.recorded_at,
                )
            )


def live_tables() -> dict[str, sa.Table]:
    return HotspotsProjection().define(sa.MetaData())
