"""Small builders for given/when/then tests of the case aggregate.

``given(*events)`` folds a history into a state; ``when(state, command)`` decides at a fixed
clock; ``assignment()`` makes a task assignment with plausible deadlines. Ids are random so
the same builders serve tests that share a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import CaseState, TaskStatus, decide, fold
from events import Event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, far from any holiday
NOW = T0 + timedelta(hours=1)
STEP = timedelta(minutes=1)


def random_id(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def random_case_id() -> str:
    return random_id("case-")


def random_task_id() -> str:
    return random_id("task-")


def random_department() -> str:
    return random_id("dept-")


def deadlines(
    start: datetime = T0,
    sign: timedelta = timedelta(hours=24),
    contact: timedelta = timedelta(days=2),
    reply: timedelta = timedelta(days=7),
) -> ev.Deadlines:
    return ev.Deadlines(sign_by=start + sign, contact_by=start + contact, reply_by=start + reply)


def assignment(
    department: str | None = None,
    role: str = "lead",
    task_id: str | None = None,
    **overrides: Any,
) -> cmd.TaskAssignment:
    fields: dict[str, Any] = {
        "task_id": task_id or random_task_id(),
        "department": department or random_department(),
        "role": role,
        "rule_id": "R-any",
        "catalogue_version": 1,
        "policy": "general",
        "warn_at": 0.8,
        "max_extension": "15wd",
        "deadlines": deadlines(),
        "calendar_version": "chinese-calendar-1.11.0",
    }
    fields.update(overrides)
    return cmd.TaskAssignment(**fields)


def receive_command(case_id: str | None = None, **overrides: Any) -> cmd.ReceiveCase:
    fields: dict[str, Any] = {
        "case_id": case_id or random_case_id(),
        "case_no": random_id("12345-"),
        "channel": "phone",
        "category": "road.pothole",
        "description": "长安路口有一个大坑",
        "urgency": "normal",
        "location": ev.Location(address="长安路 7 号", grid="XYL-07", street="XYL"),
        "reporter_ref": random_id("reporter-"),
        "received_at": T0,
    }
    fields.update(overrides)
    return cmd.ReceiveCase(**fields)


def received(**overrides: Any) -> ev.CaseReceived:
    command = receive_command(**overrides)
    return ev.CaseReceived(
        **command.model_dump(exclude={"case_id", "location", "answer", "attachments"}),
        location=command.location,
    )


def dispatched(a: cmd.TaskAssignment | None = None, **overrides: Any) -> ev.CaseDispatched:
    return ev.CaseDispatched(**dict(a or assignment(**overrides)))


def history(
    *events: Event, start: datetime = T0, step: timedelta = STEP
) -> list[tuple[Event, datetime]]:
    """The events with the times they were recorded: ``start``, ``start + step``, …"""
    return [(event, start + i * step) for i, event in enumerate(events)]


def given(*events: Event, case_id: str = "case-given", start: datetime = T0) -> CaseState:
    state = fold(history(*events, start=start), case_id=case_id)
    assert state is not None, "given() needs at least CaseReceived"
    return state


def when(state: CaseState | None, command: cmd.Command, now: datetime = NOW) -> list[Event]:
    return decide(state, command, now)


def then_state(state: CaseState, events: Iterable[Event], at: datetime = NOW) -> CaseState:
    """The state after appending ``events`` (all recorded at ``at``)."""
    from dispatch.domain.case import evolve

    for event in events:
        state = evolve(state, event, at)
    return state


# -- a task or a case brought to a given state ---------------------------------------------


def task_history(status: TaskStatus, a: cmd.TaskAssignment) -> list[Event]:
    """Events after CaseReceived that leave task ``a`` in ``status``."""
    t = a.task_id
    signed: list[Event] = [dispatched(a), ev.TaskSigned(task_id=t)]
    paths: dict[TaskStatus, list[Event]] = {
        TaskStatus.DISPATCHED: [dispatched(a)],
        TaskStatus.SIGNED: signed,
        TaskStatus.CONTACTED: [*signed, ev.CitizenContacted(task_id=t, note="已电话联系")],
        TaskStatus.RETURN_REQUESTED: [*signed, return_requested(t)],
        TaskStatus.RETURNED: [*signed, return_requested(t), ev.TaskReturnApproved(task_id=t)],
        TaskStatus.REPLIED: [*signed, ev.TaskReplied(task_id=t, resolution="已修复")],
        TaskStatus.CANCELLED: [dispatched(a), ev.TaskCancelled(task_id=t, reason="re-dispatched")],
    }
    return paths[status]


def return_requested(task_id: str, reason: ev.ReturnReason = "territory") -> ev.TaskReturnRequested:
    return ev.TaskReturnRequested(task_id=task_id, reason=reason, basis="不在本辖区")


def replied_case(a: cmd.TaskAssignment | None = None) -> list[Event]:
    """CaseReceived and one lead task signed and replied."""
    return [received(), *task_history(TaskStatus.REPLIED, a or assignment())]
