"""The department inbox (部门待办): tasks from the ``case_tasks`` projection table.

A liaison-only viewer always sees its own department's tasks, whatever ``department`` it
asks for; dispatchers and supervisors filter by ``department`` at will.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.delivery.state import delivery_states
from dispatch.domain.case_state import OPEN_TASK
from dispatch.projections.case_list import live_tables
from dispatch.projections.case_list_indexes import most_urgent_task_first
from dispatch.queries.masking import present_task
from dispatch.queries.scope import Viewer, case_scope, liaison_department

OPEN_STATES = sorted(state.value for state in OPEN_TASK)
MAX_PAGE_SIZE = 500


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601 with offset; SQLite hands back naive datetimes that were written as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    """(limit, offset) with page ≥ 1 and 1 ≤ page_size ≤ MAX_PAGE_SIZE."""
    size = min(max(page_size, 1), MAX_PAGE_SIZE)
    return size, (max(page, 1) - 1) * size


def task_representation(row: Mapping[Any, Any]) -> dict[str, Any]:
    """DESIGN.md §4's task, plus what an inbox shows beside it."""
    pending = row["extension_reply_by"] is not None
    returning = row["return_reason"] is not None
    return {
        "id": row["id"],
        "case_id": row["case_id"],
        "case_no": row["case_no"],
        "department": row["department"],
        "role": row["role"],
        "state": row["state"],
        "round": row["round"],
        "delivery": row["delivery"],
        "deadlines": {
            "sign_by": iso(row["sign_by"]),
            "contact_by": iso(row["contact_by"]),
            "reply_by": iso(row["reply_by"]),
            "calendar_assumed": bool(row["calendar_assumed"]),
        },
        "original_reply_by": iso(row["original_reply_by"]),
        "dispatched_at": iso(row["dispatched_at"]),
        "signed_at": iso(row["signed_at"]),
        "contacted_at": iso(row["contacted_at"]),
        "replied_at": iso(row["replied_at"]),
        "resolution": row["resolution"],
        "last_progress_at": iso(row["last_progress_at"]),
        "rule_id": row["rule_id"],
        "whistle_id": row["whistle_id"],
        "catalogue_version": row["catalogue_version"],
        "policy": row["policy"],
        "return": {
            "reason": row["return_reason"],
            "basis": row["return_basis"],
            "requested_at": iso(row["return_requested_at"]),
            "returned_at": iso(row["returned_at"]),
        }
        if returning
        else None,
        "extension": {"reply_by": iso(row["extension_reply_by"]), "reason": row["extension_reason"]}
        if pending
        else None,
        "extensions_approved": row["extensions_approved"],
        # 双考核: the summoning street's rating, once given.
        "evaluation": {
            "rating": row["evaluation"],
            "note": row["evaluation_note"],
            "at": iso(row["evaluated_at"]),
        }
        if row["evaluation"] is not None
        else None,
        "cancel_reason": row["cancel_reason"],
        "warning_level": row["warning_level"],
        "overdue": bool(row["overdue"]),  # late now: a step past its deadline, not yet done
        "was_overdue": bool(row["was_overdue"]),
        "urged": {
            "level": row["urged_level"],
            "at": iso(row["urged_at"]),
            "note": row["urged_note"],
        }
        if row["urged_level"] is not None
        else None,
    }


def list_tasks(
    conn: Connection,
    viewer: Viewer,
    *,
    department: str | None = None,
    state: str | None = None,
    overdue: bool | None = None,
    page: int = 1,
    page_size: int = 20,
    most_urgent_first: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """The inbox: ``state="open"`` means any state still waiting on the department;
    ``most_urgent_first`` orders by the deadline of the step each task is at (the overdue
    first), else the latest dispatched first."""
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    conditions: list[Any] = []
    forced = liaison_department(viewer)
    if forced is not None:
        department = forced
    scope = case_scope(viewer, cases, tasks)
    if scope is not None and forced is None:
        conditions.append(tasks.c.case_id.in_(sa.select(cases.c.id).where(scope)))
    if department is not None:
        conditions.append(tasks.c.department == department)
    if state == "open":
        conditions.append(tasks.c.state.in_(OPEN_STATES))
    elif state is not None:
        conditions.append(tasks.c.state == state)
    if overdue is not None:
        conditions.append(tasks.c.overdue.is_(overdue))

    limit, offset = page_bounds(page, page_size)
    query = (
        sa.select(tasks, cases.c.category, cases.c.urgency, cases.c.address, cases.c.status)
        .join(cases, cases.c.id == tasks.c.case_id)
        .where(*conditions)
        .order_by(*(most_urgent_task_first(tasks) if most_urgent_first else _latest_first(tasks)))
        .limit(limit)
        .offset(offset)
    )
    total = conn.execute(sa.select(sa.func.count()).select_from(tasks).where(*conditions))
    items = [present_task(_inbox_item(row), viewer) for row in conn.execute(query).mappings()]
    return with_delivery(conn, items), int(total.scalar() or 0)


def _latest_first(tasks: sa.Table) -> list[Any]:
    return [tasks.c.dispatched_at.desc(), tasks.c.id]


def _inbox_item(row: Mapping[Any, Any]) -> dict[str, Any]:
    item = task_representation(row)
    item["case"] = {
        "category": row["category"],
        "urgency": row["urgency"],
        "address": row["address"],
        "status": row["status"],
    }
    return item


def get_task(conn: Connection, task_id: str) -> dict[str, Any] | None:
    tasks = live_tables()["case_tasks"]
    row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).mappings().first()
    return with_delivery(conn, [task_representation(row)])[0] if row is not None else None


def tasks_of_case(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    tasks = live_tables()["case_tasks"]
    query = sa.select(tasks).where(tasks.c.case_id == case_id)
    rows = conn.execute(query.order_by(tasks.c.dispatched_version)).mappings()
    return with_delivery(conn, [task_representation(row) for row in rows])


def with_delivery(conn: Connection, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delivery state (pending / delivered / failed) lives apart from task state, in the
    delivery worker's own table; a projection rebuild must not reset it."""
    states = delivery_states(conn, [item["id"] for item in items])
    for item in items:
        item["delivery"] = states[item["id"]]
    return items
