"""Which buttons a user sees: what the rules allow next (``allowed_*_actions``) that the user's
roles may do. The handlers check both again when the button is pressed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from dispatch.auth.users import User
from dispatch.domain.case import (
    CaseState,
    CaseStatus,
    PendingExtension,
    TaskState,
    TaskStatus,
    allowed_case_actions,
    allowed_task_actions,
)
from dispatch.handlers import CASE_ACTIONS, TASK_ACTIONS

# Who may take each action: the action table's (DESIGN.md §4's route table).
CASE_ACTION_ROLES: dict[str, tuple[str, ...]] = {
    path: action.roles for path, action in CASE_ACTIONS.items()
}
LIAISON_ACTIONS = frozenset(path for path, action in TASK_ACTIONS.items() if action.own_department)
RULINGS = frozenset(path for path, action in TASK_ACTIONS.items() if "dispatcher" in action.roles)
# 双考核: the street rates the tasks its whistles summoned.
STREET_TASK_ACTIONS = frozenset(path for path, a in TASK_ACTIONS.items() if "street" in a.roles)
# The usual next step first: a liaison's eye lands on 签收, then 联系, then 办结.
ORDER = (
    "sign",
    "contact",
    "reply",
    "progress",
    "extension",
    "return",
    "return/approve",
    "return/reject",
    "extension/approve",
    "extension/deny",
    "evaluation",
)


def case_buttons(user: User, state: CaseState) -> list[str]:
    allowed = []
    for action in allowed_case_actions(state):
        roles = CASE_ACTION_ROLES.get(action)
        if roles is None or not user.has_any(*roles):
            continue
        if action == "whistle" and state.location.street != user.street:
            continue
        allowed.append(action)
    return allowed


def task_buttons(user: User, task: TaskState, case: CaseState | None) -> list[str]:
    shown = []
    for action in allowed_task_actions(task, case):
        if (
            (action in LIAISON_ACTIONS and user.is_liaison_of(task.department))
            or (action in RULINGS and user.has("dispatcher"))
            or (action in STREET_TASK_ACTIONS and _summoned_by(user, task, case))
        ):
            shown.append(action)
    return sorted(shown, key=ORDER.index)


def _summoned_by(user: User, task: TaskState, case: CaseState | None) -> bool:
    """The user's street blew the whistle that summoned ``task`` (a list row: its case's
    street, the only one that may whistle on it)."""
    if not user.has("street") or user.street is None:
        return False
    whistles = getattr(case, "whistles", None)
    if whistles is None:
        return getattr(case, "street", None) == user.street
    return any(w.whistle_id == task.whistle_id and w.street == user.street for w in whistles)


@dataclass(frozen=True)
class _Row:
    """The part of a task and its case that the transition rules read, from a list row."""

    department: str
    state: TaskStatus
    pending_extension: PendingExtension | None
    status: CaseStatus
    role: str = "lead"
    evaluation: object | None = None
    whistle_id: str | None = None
    street: str | None = None


def row_buttons(user: User, item: dict[str, Any]) -> list[str]:
    """Buttons for an inbox row (``list_tasks``' item) without folding its case's stream.

    ``allowed_task_actions`` reads only the task's state and pending extension and the case's
    status; the row carries all three.
    """
    pending = None
    if item.get("extension"):
        pending = PendingExtension(
            reply_by=datetime.fromisoformat(item["extension"]["reply_by"]),
            reason=item["extension"]["reason"] or "",
            requested_at=datetime.fromisoformat(item["dispatched_at"]),
        )
    row = _Row(
        department=item["department"],
        state=TaskStatus(item["state"]),
        pending_extension=pending,
        status=CaseStatus(item["case"]["status"]),
        role=item.get("role", "lead"),
        evaluation=item.get("evaluation"),
        whistle_id=item.get("whistle_id"),
        street=item["case"].get("street"),
    )
    return task_buttons(user, cast(TaskState, row), cast(CaseState, row))
