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


def alert_for(row: Any, stage: str, now: datetime) -> dict[str, Any] | None:
    """The alert of one step of one task, or ``None`` while it is done or still green."""
    _, done, deadline_column, warn_column = next(s for s in STAGES if s[0] == stage)
    if getattr(row, done) is not None:
        return None
    deadline = as_utc(getattr(row, deadline_column))
    if now >= deadline:
        level = "red"
    elif now >= as_utc(getattr(row, warn_column)):
        level = "yellow"
    else:
        return None
    return {
        "task_id": row.task_id,
        "case_id": row.case_id,
        "case_no": row.case_no,
        "department": row.department,
        "role": row.role,
        "stage": stage,
        "level": level,
        "deadline": deadline,
        # Negative while yellow: how long is left before the deadline.
        "overdue_by_seconds": int((now - deadline).total_seconds()),
    }


def overdue_alerts(
    conn: Connection,
    viewer: Viewer,
    *,
    now: datetime,
    department: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Alerts for ``viewer``: red before yellow, the longest overdue first.

    A liaison-only viewer sees their own department; asking for another raises ``OutOfScope``.
    """
    now = now.astimezone(UTC)
    scope = liaison_department(viewer)  # "" for a liaison bound to no department: sees nothing
    if scope is not None:
        if department is not None and department != scope:
            raise OutOfScope(f"a liaison sees the alerts of {scope!r} only, not {department!r}")
        department = scope
    c = tasks.c
    any_step_warned = sa.or_(
        *(sa.and_(c[done].is_(None), c[warn] <= now) for _, done, _, warn in STAGES)
    )
    needed = {name for stage in STAGES for name in stage[1:]}
    query = sa.select(*(c[name] for name in (*_COLUMNS, *sorted(needed)))).where(
        *_open_tasks(), any_step_warned
    )
    if department is not None:
        query = query.where(c.department == department)
    alerts = [
        alert
        for row in conn.execute(query)
        for stage, *_ in STAGES
        if (alert := alert_for(row, stage, now)) is not None
    ]
    alerts.sort(key=lambda a: (a["level"] != "red", -a["overdue_by_seconds"], a["task_id"]))
    return alerts[:limit] if limit is not None else alerts
