"""Turning "department D takes role R" into a task with its deadlines (the SLA policy)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dispatch.catalogue import Catalogue, deadlines_for
from dispatch.domain.case import CaseState
from dispatch.domain.commands import TaskAssignment
from dispatch.domain.deadlines import task_deadlines
from dispatch.domain.events import RoutingCandidate, TaskRole
from dispatch.domain.ids import next_task_ids
from dispatch.handlers.errors import InvalidInput


def assign(
    catalogue: Catalogue,
    catalogue_number: int | None,
    state: CaseState,
    departments: Sequence[tuple[str, TaskRole]],
    *,
    now: datetime,
    rule_id: str | None = None,
    candidates: Sequence[RoutingCandidate] = (),
    whistle_id: str | None = None,
    report_by: datetime | None = None,
    field: str = "departments.{index}",
) -> list[TaskAssignment]:
    """``field`` names a department in the request body the way 422s name fields
    (``departments.0.code``), so an unknown code is reported where the client wrote it."""
    for index, (code, _role) in enumerate(departments):
        if catalogue.department(code) is None:
            raise InvalidInput(
                field.format(index=index),
                f"unknown department {code!r}",
                code="unknown_department",
                facts={"department": code},
            )
    due = deadlines_for(catalogue, state.category, state.urgency, now)
    deadlines = task_deadlines(
        sign_by=due.sign_by,
        contact_by=due.contact_by,
        reply_by=due.reply_by,
        calendar_assumed=due.calendar_assumed,
        report_by=report_by,
    )
    return [
        TaskAssignment(
            task_id=task_id,
            department=code,
            role=role,
            rule_id=rule_id,
            catalogue_version=catalogue_number,
            policy=due.policy,
            warn_at=due.warn_at,
            max_extension=due.max_extension,
            deadlines=deadlines,
            calendar_version=due.calendar_version,
            whistle_id=whistle_id,
            candidates=tuple(candidates),
        )
        for task_id, (code, role) in zip(
            next_task_ids(state, len(departments)), departments, strict=True
        )
    ]
