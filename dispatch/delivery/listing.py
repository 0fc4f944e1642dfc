"""Every delivery, for a dispatcher's desk: what was sent (``kind``), how (``type``), to whom,
and how it went. Tasks' dispatches and notices live in two tables; one list shows both."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.delivery.notice_state import notice_deliveries
from dispatch.delivery.notices import TASK_DISPATCHED
from dispatch.delivery.state import deliveries, utc


def _all() -> sa.Subquery:
    tasks = sa.select(
        deliveries.c.task_id.label("id"),
        sa.literal(TASK_DISPATCHED).label("kind"),
        deliveries.c.channel.label("type"),
        deliveries.c.case_id,
        deliveries.c.task_id,
        deliveries.c.department,
        deliveries.c.state,
        deliveries.c.attempts,
        deliveries.c.last_error,
        deliveries.c.delivered_at,
        deliveries.c.updated_at,
    )
    notices = sa.select(
        notice_deliveries.c.notice_id.label("id"),
        notice_deliveries.c.kind,
        notice_deliveries.c.channel.label("type"),
        notice_deliveries.c.case_id,
        notice_deliveries.c.task_id,
        notice_deliveries.c.department,
        notice_deliveries.c.state,
        notice_deliveries.c.attempts,
        notice_deliveries.c.last_error,
        notice_deliveries.c.delivered_at,
        notice_deliveries.c.updated_at,
    )
    return sa.union_all(tasks, notices).subquery("all_deliveries")


def list_deliveries(
    conn: Connection,
    *,
    case_id: str | None = None,
    department: str | None = None,
    kind: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first; every filter optional."""
    every = _all()
    wanted = {"case_id": case_id, "department": department, "kind": kind, "state": state}
    where = [every.c[name] == value for name, value in wanted.items() if value is not None]
    total = conn.execute(sa.select(sa.func.count()).select_from(every).where(*where)).scalar()
    rows = conn.execute(
        sa.select(every)
        .where(*where)
        .order_by(every.c.updated_at.desc(), every.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_json(row) for row in rows], int(total or 0)


def _json(row: sa.Row) -> dict[str, Any]:
    delivered, updated = utc(row.delivered_at), utc(row.updated_at)
    return {
        "id": row.id,
        "kind": row.kind,
        "type": row.type,
        "case_id": row.case_id,
        "task_id": row.task_id,
        "department": row.department,
        "state": row.state,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "delivered_at": delivered.isoformat() if delivered else None,
        "updated_at": updated.isoformat() if updated else None,
    }
