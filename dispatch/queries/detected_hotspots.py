"""主动治理 reads of the hotspots raised (the ``hotspots`` projection): the street's
``hotspots`` worklist, the grid map's count per grid, and the pairs the timer scan skips.

``GET /stats/hotspots`` (``dispatch.queries.hotspots``) counts cases over any period; this
module reads what was *raised*, once per window. A street officer sees its own street's
hotspots; the centre's roles see every one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.hotspots import live_tables
from dispatch.projections.kpi import KPI_TIMEZONE
from dispatch.queries.scope import Viewer, roles_of
from events import as_utc

WIDE_ROLES = frozenset({"supervisor", "dispatcher", "admin", "operator"})
LIST_DAYS = 7  # the worklist keeps a hotspot a week after its window ended


def detected_hotspots(
    conn: Connection,
    viewer: Viewer,
    today: date,
    *,
    street: str | None = None,
    grid: str | None = None,
    category: str | None = None,
    first: date | None = None,
    last: date | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """The ``hotspots`` worklist: hotspots whose window ends on or after ``first`` (default a
    week back) and starts on or before ``last``, the latest window first, the biggest first;
    and their total."""
    table = live_tables()["hotspots"]
    conditions = [
        table.c.window_end >= (first or today - timedelta(days=LIST_DAYS)),
        *_row_scope(table, viewer),
    ]
    if last is not None:
        conditions.append(table.c.window_start <= last)
    for column, wanted in ((table.c.street, street), (table.c.grid, grid)):
        if wanted is not None:
            conditions.append(column == wanted)
    if category is not None:
        conditions.append(table.c.category == category)
    order = (table.c.window_start.desc(), table.c.count.desc(), table.c.grid, table.c.category)
    query = sa.select(table).where(*conditions).order_by(*order)
    total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*conditions))
    items = [_item(row) for row in conn.execute(query.limit(limit).offset(offset)).mappings()]
    return items, total.scalar_one()


def _item(row: Any) -> dict[str, Any]:
    return {
        "id": row["stream"],
        "grid": row["grid"],
        "street": row["street"],
        "category": row["category"],
        "window_start": row["window_start"].isoformat(),
        "window_end": row["window_end"].isoformat(),
        "count": row["count"],
        "cases": list(row["cases"]),
        "detected_at": as_utc(row["detected_at"]).isoformat(),
    }


def _row_scope(table: sa.Table, viewer: Viewer) -> list[Any]:
    roles = roles_of(viewer)
    if roles & WIDE_ROLES:
        return []
    if "street" in roles and viewer.street:
        return [table.c.street == viewer.street]
    return [sa.false()]


def raised_pairs(conn: Connection, window_start: date) -> set[tuple[str, str]]:
    """(grid, category) already raised for the window starting ``window_start``."""
    table = live_tables()["hotspots"]
    query = sa.select(table.c.grid, table.c.category).where(table.c.window_start == window_start)
    return {(row.grid, row.category) for row in conn.execute(query)}


def hotspots_now(conn: Connection, grids: list[str], now: datetime) -> dict[str, int]:
    """The grid map's ``hotspots`` measure: hotspots raised for the window holding today (the
    centre's local day; a measure is given no catalogue, the KPI timezone stands for it)."""
    table = live_tables()["hotspots"]
    today = now.astimezone(ZoneInfo(KPI_TIMEZONE)).date()
    query = (
        sa.select(table.c.grid, sa.func.count())
        .where(
            table.c.grid.in_(grids),
            table.c.window_start <= today,
            table.c.window_end >= today,
        )
        .group_by(table.c.grid)
    )
    return {str(grid): int(count) for grid, count in conn.execute(query)}
