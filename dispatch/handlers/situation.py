"""What a command is built from: the case as just folded, the moment, and who asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dispatch.catalogue import Catalogue
from dispatch.domain.case import CaseState, TaskState
from dispatch.handlers.errors import NotInScope, TaskNotFound
from dispatch.handlers.handling import Handling, Issuer


def find_task(state: CaseState, task_id: str) -> TaskState:
    task = state.tasks.get(task_id)
    if task is None:
        raise TaskNotFound(f"no task with id {task_id!r}")
    return task


def check_own_department(task: TaskState, issuer: Issuer) -> None:
    """A liaison acts on its own department's tasks only (a dispatcher rules on any)."""
    if issuer.role == "liaison" and issuer.actor.department != task.department:
        raise NotInScope(
            f"task {task.task_id} belongs to department {task.department!r}; "
            "only its own liaisons may act on it"
        )


def check_own_whistle(state: CaseState, task: TaskState, issuer: Issuer) -> None:
    """A street officer acts on a task only if its street's whistle summoned it (双考核)."""
    if issuer.role != "street":
        return
    streets = {w.street for w in state.whistles if w.whistle_id == task.whistle_id}
    if task.role != "summoned" or issuer.actor.street not in streets:
        raise NotInScope(
            f"task {task.task_id} was not summoned by street {issuer.actor.street!r}",
            code="not_your_whistle",
        )


@dataclass(frozen=True)
class Situation:
    """``target`` is the case or task id the command names; ``state`` its case, folded on
    this attempt (a lost race builds the command again from the newer state)."""

    deps: Handling
    target: str
    state: CaseState
    now: datetime
    issuer: Issuer

    @property
    def task(self) -> TaskState:
        return find_task(self.state, self.target)

    def catalogue(self) -> tuple[int, Catalogue]:
        return self.deps.catalogue()
