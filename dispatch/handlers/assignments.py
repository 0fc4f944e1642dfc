"""Turning "department D takes role R" into a task with its deadlines (the SLA policy)."""

from __future__ import annotations

from datetime import datetime

from dispatch.catalogue import Catalogue, deadlines_for, work_calendar
from dispatch.domain.case import CaseState, TaskState
from dispatch.domain.commands import TaskAssignment
from dispatch.domain.events import Deadlines
from dispatch.handlers.errors import InvalidInput


def next_task_ids(state: CaseState, count: int) -> list[str]:
    """Task ids are ``<case_id>-<n>``: a task command finds its case without a lookup."""
    start = len(state.tasks) + 1
    return [f"{state.case_id}-{n}" for n in range(start, start + count)]


def case_id_of(task_id: str) -> str:
    return task_id.rsplit("-", 1)[0]


def assign(
    catalogue: Catalogue,
    catalogue_number: int | None,
    state: CaseState,
    departments: list[tuple[str, str]],
    *,
    now: datetime,
    rule_id: str | None = None,
    whistle_id: str | None = None,
    report_by: datetime | None = None,
    field: str = "departments.{index}",
) -> list[TaskAssignment]:
    """``field`` names a department in the request body the way 422s name fields
    (``departments.0.code``), so an unknown code is reported where the client wrote it."""
    for index, (code, _role) in enumerate(departments):
        if catalogue.department(code) is None:
            raise InvalidInput(field.format(index=index), f"unknown department {code!r}")
    deadlines = deadlines_for(catalogue, state.category, state.urgency, now)
    sign_by = deadlines.sign_by
    if report_by is not None:
        # 吹哨报到: the report-in deadline is the summoned department's signing deadline.
        sign_by = report_by
    task_deadlines = Deadlines(
        sign_by=sign_by,
        contact_by=max(deadlines.contact_by, sign_by),
        reply_by=max(deadlines.reply_by, sign_by),
        calendar_assumed=deadlines.calendar_assumed,
    )
    return [
        TaskAssignment(
            task_id=task_id,
            department=code,
            role=role,
            rule_id=rule_id,
            catalogue_version=catalogue_number,
            policy=deadlines.policy,
            warn_at=deadlines.warn_at,
            max_extension=deadlines.max_extension,
            deadlines=task_deadlines,
            calendar_version=deadlines.calendar_version,
            whistle_id=whistle_id,
        )
        for task_id, (code, role) in zip(
            next_task_ids(state, len(departments)), departments, strict=True
        )
    ]


def latest_reply_by(catalogue: Catalogue, task: TaskState) -> datetime:
    """The furthest an extension may move ``reply_by``: original + the policy's cap."""
    if not task.max_extension:
        return task.original_reply_by
    latest, _assumed = work_calendar(catalogue).add(task.original_reply_by, task.max_extension)
    return latest
