"""What changed for one viewer between two positions of the log (DESIGN.md §8.8): the tasks
of its department (a street: the tasks its whistles summoned) on the cases those events
touched, and the SLA warnings in its scope. The log says which cases moved; the case-list
projection says what they look like now, so nothing here folds a stream."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables
from dispatch.queries.masking import present_task
from dispatch.queries.scope import Viewer, liaison_department, roles_of
from dispatch.queries.tasks import iso, task_representation
from events import RecordedEvent

WARNING = "SlaWarningRaised"
SEES_EVERY_ALERT = frozenset({"supervisor", "dispatcher"})


@dataclass(frozen=True)
class Changes:
    tasks: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def changes_for(conn: Connection, viewer: Viewer, recorded: Iterable[RecordedEvent]) -> Changes:
    """The viewer's tasks on the cases ``recorded`` touched, and its alerts among them."""
    recorded = list(recorded)
    case_ids = sorted({event.stream_id for event in recorded})
    tasks = _tasks_in_scope(conn, viewer, case_ids) if case_ids else []
    warnings = [event for event in recorded if event.type == WARNING]
    alerts = _alerts_in_scope(conn, viewer, warnings) if warnings else []
    return Changes(tasks=tasks, alerts=alerts)


def _task_scope(viewer: Viewer, cases: sa.Table, tasks: sa.Table) -> Any:
    """A liaison: its department's tasks; a street officer: the tasks summoned to its
    street; anyone else follows the worklists instead (``None``: no task events)."""
    department = liaison_department(viewer)
    if department is not None:
        return tasks.c.department == department
    if "street" in roles_of(viewer) and viewer.street:
        return sa.and_(tasks.c.role == "summoned", cases.c.street == viewer.street)
    return None


def _tasks_in_scope(conn: Connection, viewer: Viewer, case_ids: list[str]) -> list[dict[str, Any]]:
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    scope = _task_scope(viewer, cases, tasks)
    if scope is None:
        return []
    query = (
        sa.select(tasks, cases.c.category.label("case_category"))
        .join(cases, cases.c.id == tasks.c.case_id)
        .where(tasks.c.case_id.in_(case_ids), scope)
        .order_by(tasks.c.dispatched_version, tasks.c.id)
    )
    items = []
    for row in conn.execute(query).mappings():
        item = task_representation(row)
        item["case"] = {"category": row["case_category"]}
        items.append(present_task(item, viewer))
    return items


def _alerts_in_scope(
    conn: Connection, viewer: Viewer, warnings: list[RecordedEvent]
) -> list[dict[str, Any]]:
    """预警/超期 as the alerts page words them: the task, its case and department, the step
    and the level; a liaison hears its own department's only."""
    roles = roles_of(viewer)
    department = liaison_department(viewer)
    if not roles & SEES_EVERY_ALERT and department is None:
        return []
    tasks = live_tables()["case_tasks"]
    task_ids = [str(event.data.get("task_id")) for event in warnings]
    query = sa.select(tasks.c.id, tasks.c.case_id, tasks.c.case_no, tasks.c.department)
    found = {row.id: row for row in conn.execute(query.where(tasks.c.id.in_(task_ids)))}
    alerts = []
    for event in warnings:
        task = found.get(str(event.data.get("task_id")))
        if task is None:
            continue
        if not roles & SEES_EVERY_ALERT and task.department != department:
            continue
        alerts.append(
            {
                "task_id": task.id,
                "case_id": task.case_id,
                "case_no": task.case_no,
                "department": task.department,
                "stage": event.data.get("stage"),
                "level": event.data.get("level"),
                "deadline": event.data.get("deadline"),
                "at": iso(event.recorded_at),
            }
        )
    return alerts
