"""Overdue alerts (超期预警): open tasks near (yellow) or past (red) a deadline, right now.

Computed from the deadlines on the KPI task facts against ``now``, not from the warning
events, so the list is right even when the SLA timer worker has been down: a task turns
yellow at ``warn_at`` of the clock time from dispatch to the deadline (the timers' rule) and
red at the deadline. One alert per open step: a task not signed past its sign deadline and
near its contact deadline shows twice, once per stage.

``as_of`` answers as the log stood at that instant, the way ``kpi_exact`` does: tasks
dispatched before it, each step done only if done before it, the reply deadline from the
extensions approved by then, the case's closure from its dated log. It costs one correlated
lookup per candidate task (indexed), so it is for audits, not the dashboard's refresh. The
facts keep no history of parking (挂账), so a case parked now is still left out at an earlier
``as_of``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.queries.kpi_exact import case_log, reply_deadline_as_of, tasks
from dispatch.queries.scope import Viewer, liaison_department
from events import as_utc

# The fact tables of ``kpi_exact``, the same objects, so its ``as_of`` subqueries correlate.

# (stage, the step's done-column, its deadline, its yellow line)
STAGES = (
    ("sign", "signed_at", "sign_by", "sign_warn_at"),
    ("contact", "contacted_at", "contact_by", "contact_warn_at"),
    ("reply", "replied_at", "reply_by", "reply_warn_at"),
)


class OutOfScope(PermissionError):
    """A liaison asked for another department's alerts."""


def _open_tasks(as_of: datetime | None = None) -> list[sa.ColumnElement[bool]]:
    """Still the department's to do: not replied, returned or cancelled; case still running.

    The same predicate as the partial index ``ix_kpi_tasks_open`` (``OPEN_TASK``), which
    holds only these rows, so the planner can answer from it.
    """
    c = tasks.c
    if as_of is not None:
        return _open_at(as_of)
    return [
        c.replied_at.is_(None),
        c.returned_at.is_(None),
        c.cancelled_at.is_(None),
        c.excluded_at.is_(None),
        c.case_closed_at.is_(None),
        c.case_parked.is_(False),  # 挂账: a plan and a review date replace the deadline
    ]


def _open_at(as_of: datetime) -> list[sa.ColumnElement[bool]]:
    """``_open_tasks`` as the log stood at ``as_of``."""
    c = tasks.c
    last_closure = (
        sa.select(case_log.c.kind)
        .where(
            case_log.c.case_id == c.case_id,
            case_log.c.kind.in_(("closed", "reopened")),
            case_log.c.recorded_at < as_of,
        )
        .order_by(case_log.c.position.desc())
        .limit(1)
        .correlate(tasks)
        .scalar_subquery()
    )
    return [
        c.dispatched_at < as_of,
        *(_not_yet(c[name], as_of) for name in ("replied_at", "returned_at", "cancelled_at")),
        _not_yet(c.excluded_at, as_of),
        sa.or_(last_closure.is_(None), last_closure != "closed"),
        c.case_parked.is_(False),
    ]


def _not_yet(column: sa.ColumnElement[Any], as_of: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(column.is_(None), column >= as_of)


_COLUMNS = ("task_id", "case_id", "case_no", "department", "role")
LEVELS = ("yellow", "red")


def _stage_alerts(
    stage: str, order: int, now: datetime, level: str | None, as_of: bool = False
) -> sa.Select[Any]:
    """One row per task whose ``stage`` step is undone and past its yellow line (at ``now``,
    which is the past moment asked for when ``as_of``)."""
    _, done, deadline_name, warn = next(s for s in STAGES if s[0] == stage)
    c = tasks.c
    deadline: sa.ColumnElement[Any] = c[deadline_name]
    undone: sa.ColumnElement[bool] = c[done].is_(None)
    if as_of:
        if stage == "reply":
            deadline = reply_deadline_as_of(now)
        undone = _not_yet(c[done], now)
    red = deadline <= now
    query = sa.select(
        *(c[name] for name in _COLUMNS),
        sa.literal(stage).label("stage"),
        sa.literal(order).label("stage_order"),
        deadline.label("deadline"),
        sa.case((red, sa.literal("red")), else_=sa.literal("yellow")).label("level"),
    ).where(*_open_tasks(now if as_of else None), undone, c[warn] <= now)
    if level == "red":
        query = query.where(red)
    elif level == "yellow":
        query = query.where(sa.not_(red))
    return query


def _alerts(
    viewer: Viewer, now: datetime, department: str | None, level: str | None, as_of: bool
) -> sa.Subquery:
    """Every alert of the viewer's scope, one row per open step, as one UNION ALL."""
    scope = liaison_department(viewer)  # "" for a liaison bound to no department: sees nothing
    if scope is not None:
        if department is not None and department != scope:
            raise OutOfScope("a liaison sees their own department's alerts only")
        department = scope
    parts = []
    for order, (stage, *_) in enumerate(STAGES):
        part = _stage_alerts(stage, order, now, level, as_of)
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
    as_of: datetime | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Alerts for ``viewer``: red before yellow, the longest overdue first, at most ``limit``
    (ordered and cut in SQL, so a thousand overdue tasks never reach Python for a page of 50).
    With ``as_of``, the alerts as they stood then (see the module docstring).

    A liaison-only viewer sees their own department; asking for another raises ``OutOfScope``.
    """
    now = (as_of or now).astimezone(UTC)
    alerts = _alerts(viewer, now, department, level, as_of is not None)
    red_first = sa.case((alerts.c.level == "red", 0), else_=1)
    query = sa.select(alerts).order_by(
        red_first, alerts.c.deadline, alerts.c.task_id, alerts.c.stage_order
    )
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
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
    as_of: datetime | None = None,
) -> int:
    """How many alerts ``overdue_alerts`` would give without a limit."""
    moment = (as_of or now).astimezone(UTC)
    alerts = _alerts(viewer, moment, department, level, as_of is not None)
    return int(conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar() or 0)
