"""The console's work lists that the case list and inbox queries do not answer directly:
likely duplicates at intake, extensions awaiting a ruling, and who answered a whistle.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables
from dispatch.queries.cases import list_cases
from dispatch.queries.scope import Viewer
from dispatch.queries.tasks import OPEN_STATES, task_representation
from events import as_utc

OPEN_CASE = ("received", "dispatched", "in_progress", "reopened", "replied", "parked")
DUPLICATE_WINDOW = timedelta(days=7)
DUPLICATE_RADIUS_M = 300.0


def likely_duplicates(
    conn: Connection,
    viewer: Viewer,
    *,
    category: str,
    now: datetime,
    grid: str | None = None,
    point: tuple[float, float] | None = None,
    window: timedelta = DUPLICATE_WINDOW,
    limit: int = 5,
    q: str | None = None,
) -> list[dict[str, Any]]:
    """Open cases of the same category received within ``window``, in the same grid (or,
    without a grid, within a few hundred metres of ``point``): likely the same problem.
    ``q`` keeps those whose text holds it."""
    if grid is None and point is None:
        return []
    items, _total = list_cases(
        conn,
        viewer,
        status=OPEN_CASE,
        category=category,
        grid=grid,
        near=point if grid is None else None,
        radius_m=DUPLICATE_RADIUS_M,
        q=q,
        page_size=50,
    )
    since = now - window
    recent = [item for item in items if datetime.fromisoformat(item["received_at"]) >= since]
    return recent[:limit]


def case_descriptions(conn: Connection, case_ids: list[str]) -> dict[str, str]:
    """What each case is about, for lists that show tasks (an inbox row has no description)."""
    if not case_ids:
        return {}
    cases = live_tables()["case_list"]
    query = sa.select(cases.c.id, cases.c.description).where(cases.c.id.in_(set(case_ids)))
    return {row.id: row.description for row in conn.execute(query)}


def _task_query(*conditions: Any) -> sa.Select[Any]:
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    return (
        sa.select(tasks, cases.c.category, cases.c.urgency, cases.c.address, cases.c.status)
        .join(cases, cases.c.id == tasks.c.case_id)
        .where(*conditions)
    )


def _with_case(row: Mapping[str, Any]) -> dict[str, Any]:
    item = task_representation(row)
    item["case"] = {key: row[key] for key in ("category", "urgency", "address", "status")}
    return item


def pending_extensions(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """Open tasks whose extension request (延期申请) waits for a dispatcher, oldest first."""
    tasks = live_tables()["case_tasks"]
    query = _task_query(tasks.c.extension_reply_by.is_not(None), tasks.c.state.in_(OPEN_STATES))
    query = query.order_by(tasks.c.reply_by, tasks.c.id).limit(limit)
    return [_with_case(row) for row in conn.execute(query).mappings()]


def summoned_tasks(
    conn: Connection, street: str, *, since: datetime | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Tasks summoned by whistles (吹哨) on ``street``'s cases, newest first: who reported in
    (signed) and when."""
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    conditions: list[Any] = [tasks.c.whistle_id.is_not(None), cases.c.street == street]
    if since is not None:
        conditions.append(tasks.c.dispatched_at >= as_utc(since))
    query = _task_query(*conditions).order_by(tasks.c.dispatched_at.desc(), tasks.c.id)
    return [_with_case(row) for row in conn.execute(query.limit(limit)).mappings()]
