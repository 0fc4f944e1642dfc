"""Overdue alerts (超期预警): open tasks near (yellow) or past (red) a deadline, right now.

Computed from the deadlines on the KPI task facts against ``now``, not from the warning
events, so the list is right even when the SLA timer worker has been down: a task turns
yellow at ``warn_at`` of the clock time from dispatch to the deadline (the timers' rule) and
red at the deadline. One alert per open step: a task not signed past its sign deadline and
near its contact deadline shows twice, once per stage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.kpi_tables import define_kpi_tables
from dispatch.queries.scope import Viewer, liaison_department
from events import as_utc

tasks = define_kpi_tables(sa.MetaData())["tasks"]

# (stage, the step's done-column, its deadline, its yellow line)
STAGES = (
    ("sign", "signed_at", "sign_by", "sign_warn_at"),
    ("contact", "contacted_at", "contact_by", "contact_warn_at"),
    ("reply", "replied_at", "reply_by", "reply_warn_at"),
)


class OutOfScope(PermissionError):
    """A liaison asked for another department's alerts."""


def _open_tasks() -> list[sa.ColumnElement[bool]]:
    """Still the department's to do: not replied, returned or cancelled; case still running.

    The same predicate as the partial index ``ix_kpi_tasks_open`` (``OPEN_TASK``), which
    holds only these rows, so the planner can answer from it.
    """
    c = tasks.c
    return [
        c.replied_at.is_(None),
        c.returned_at.is_(None),
        c.cancelled_at.is_(None),
        c.excluded_at.is_(None),
        c.case_closed_at.is_(None),
        c.case_parked.is_(False),  # 挂账: a plan and a review date replace the deadline
    ]


_COLUMNS = ("task_id", "case_id", "case_no", "department", "role")
LEVELS = ("yellow", "red")


def _stage_alerts(stage: str, order: int, now: datetime, level: str | None) -> sa.Select[Any]:
    """One row per task whose ``stage`` step is undone and past its yellow line."""
    _, done, deadline, warn = next(s for s in STAGES if s[0] == stage)
    c = tasks.c
    red = c[deadline] <= now
    query = sa.select(
        *(c[name] for name in _COLUMNS),
        sa.literal(stage).label("stage"),
        sa.literal(order).label("stage_order"),
        c[deadline].label("deadline"),
        sa.case((red, sa.literal("red")), else_=sa.literal("yellow")).label("level"),
    ).where(*_open_tasks(), c[done].is_(None), c[warn] <= now)
    if level == "red":
        query = query.where(red)
    elif level == "yellow":
        query = query.where(sa.not_(red))
    return query


def _alerts(
    viewer: Viewer, now: datetime, department: str | None, level: str | None
) -> sa.Subquery:
    """Every alert of the viewer's scope, one row per open step, as one UNION ALL."""
    scope = liaison_department(viewer)  # "" for a liaison bound to no department: sees nothing
    if scope is not None:
        if department is not None and department != scope:
            raise OutOfScope("a liaison sees their own department's alerts only")
        department = scope
    parts = []
    for order, (stage, *_) in enumerate(STAGES):
        part = _stage_alerts(stage, order, now, level)
        if department is not None:
            part = part.where(tasks.c.department == department)
        parts.append(part)
    return sa.union_all(*parts).subquery("alerts")


def overdue_alerts(
    conn: Connection,
    viewer: Viewer,
    *,
    now: datetime,
    department: str | None = None,
    level: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Alerts for ``viewer``: red before yellow, the longest overdue first, at most ``limit``
    (ordered and cut in SQL, so a thousand overdue tasks never reach Python for a page of 50).

    A liaison-only viewer sees their own department; asking for another raises ``OutOfScope``.
    """
    now = now.astimezone(UTC)
    alerts = _alerts(viewer, now, department, level)
    red_first = sa.case((alerts.c.level == "red", 0), else_=1)
    query = sa.select(alerts).order_by(
        red_first, alerts.c.deadline, alerts.c.task_id, alerts.c.stage_order
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            **{name: row._mapping[name] for name in _COLUMNS},
            "stage": row.stage,
            "level": row.level,
            "deadline": as_utc(row.deadline),
            # Negative while yellow: how long is left before the deadline.
            "overdue_by_seconds": int((now - as_utc(row.deadline)).total_seconds()),
        }
        for row in conn.execute(query)
    ]


def count_overdue_alerts(
    conn: Connection,
    viewer: Viewer,
    *,
    now: datetime,
    department: str | None = None,
    level: str | None = None,
) -> int:
    """How many alerts ``overdue_alerts`` would give without a limit."""
    alerts = _alerts(viewer, now.astimezone(UTC), department, level)
    return int(conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar() or 0)
