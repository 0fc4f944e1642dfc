"""The handlers, all of one shape — ``(deps, target, command, issuer) -> CommandResult`` —
and ``handle``, which picks one by the command's type (the table at the bottom).

``target`` is the id the command names: the case, the task, or for intake the new case's id.
Each handler loads the case, checks scope, builds the domain command and appends through
``execute``, which reloads and decides again when another command wins the race.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from dispatch.domain import commands as c
from dispatch.domain.case import CaseState
from dispatch.domain.ids import case_id_of
from dispatch.handlers.actions import Requested
from dispatch.handlers.actor import SYSTEM
from dispatch.handlers.attachments import add_attachment, erase_intake_photos
from dispatch.handlers.errors import CaseNotFound
from dispatch.handlers.executor import CommandResult, execute
from dispatch.handlers.handling import Handling, Issuer
from dispatch.handlers.intake import Complaint, receive_complaint
from dispatch.handlers.route_case import RouteCase, route_case
from dispatch.handlers.situation import (
    Situation,
    check_own_department,
    check_own_whistle,
    find_task,
)

Handler = Callable[[Handling, str, Any, Issuer], CommandResult]


def take_action(
    deps: Handling, target: str, command: Requested[Any], issuer: Issuer
) -> CommandResult:
    """An action of the table (``dispatch.handlers.actions``) with its body."""
    action = command.action
    on_task = action.on == "task"

    def scope(state: CaseState) -> None:
        if on_task:
            task = find_task(state, target)
            check_own_department(task, issuer)
            check_own_whistle(state, task, issuer)

    return execute(
        deps,
        case_id_of(target) if on_task else target,
        lambda state, now: action.build(Situation(deps, target, state, now, issuer), command.body),
        issuer,
        scope=scope,
    )


def case_command(deps: Handling, target: str, command: c.Command, issuer: Issuer) -> CommandResult:
    """A domain command on a case, given whole (the demo's centre, tests)."""
    return execute(deps, target, lambda _state, _now: command, issuer)


def task_command(deps: Handling, target: str, command: c.Command, issuer: Issuer) -> CommandResult:
    """A domain command on a task, given whole: a liaison's, on its own department's task."""
    return execute(
        deps,
        case_id_of(target),
        lambda _state, _now: command,
        issuer,
        scope=lambda state: check_own_department(find_task(state, target), issuer),
    )


def raise_sla_warning(
    deps: Handling, target: str, command: c.RaiseSlaWarning, issuer: Issuer
) -> CommandResult:
    """Idempotent per (task, stage, level): the domain returns no event the second time."""
    return execute(deps, case_id_of(target), lambda _state, _now: command, issuer)


def sla_warning_raised(deps: Handling, task_id: str, stage: str, level: str) -> bool:
    """The SLA timer's call: was a warning raised (not one already there, or a dropped one)?"""
    issuer = Issuer(actor=SYSTEM, role="system", command_id=f"sla:{task_id}:{stage}:{level}")
    # The timer's stage and level are text: validated here, as a body would be.
    command = c.RaiseSlaWarning.model_validate({"task_id": task_id, "stage": stage, "level": level})
    try:
        return bool(raise_sla_warning(deps, task_id, command, issuer).events)
    except CaseNotFound:
        return False


def park_review_raised(deps: Handling, case_id: str, review_on: date) -> bool:
    """The park-review timer's call: was CaseParkReviewDue raised (not already, not stale)?"""
    key = f"park-review:{case_id}:{review_on.isoformat()}"
    issuer = Issuer(actor=SYSTEM, role="system", command_id=key)
    command = c.RaiseParkReviewDue(review_on=review_on)
    try:
        return bool(case_command(deps, case_id, command, issuer).events)
    except CaseNotFound:
        return False


HANDLERS: dict[type, Handler] = {
    Complaint: receive_complaint,
    RouteCase: route_case,
    Requested: take_action,
    c.RaiseSlaWarning: raise_sla_warning,
    c.AddAttachment: add_attachment,
    c.EraseIntakePhotos: erase_intake_photos,
    **dict.fromkeys(
        (
            c.AnswerCase,
            c.RecallCase,
            c.RecordCallback,
            c.ParkCase,
            c.UnparkCase,
            c.CloseCase,
            c.UrgeCase,
            c.RaiseParkReviewDue,
        ),
        case_command,
    ),
    **dict.fromkeys(
        (
            c.SignTask,
            c.RequestReturn,
            c.ContactCitizen,
            c.NoteProgress,
            c.ReplyTask,
            c.ApproveReturn,
            c.RejectReturn,
            c.DenyExtension,
        ),
        task_command,
    ),
}


def handle(deps: Handling, target: str, command: object, issuer: Issuer) -> CommandResult:
    """Run ``command`` on ``target`` through its handler."""
    return HANDLERS[type(command)](deps, target, command, issuer)
