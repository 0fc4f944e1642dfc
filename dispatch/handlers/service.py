"""``CaseService``: the one object the API, the workers and the CLI send commands through.

Each method is the snake case of what it does, builds the domain command (some need the
current state: an extension's cap, a reopen's departments) and runs it through ``execute``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.catalogue import Catalogue
from dispatch.domain import commands as c
from dispatch.domain.case import CaseState, TaskState
from dispatch.handlers.actor import SYSTEM, Actor
from dispatch.handlers.assignments import assign, case_id_of, latest_reply_by
from dispatch.handlers.errors import (
    CaseNotFound,
    InvalidInput,
    NoCatalogue,
    NotInScope,
    TaskNotFound,
)
from dispatch.handlers.executor import CommandResult, execute, load_case
from dispatch.handlers.intake import CatalogueSource, Complaint, receive_complaint
from dispatch.handlers.route_case import route_case
from events import EventStore

Factory = Callable[[CaseState], object | None]


def tasks_of(state: CaseState) -> list[TaskState]:
    return list(state.tasks.values())


def find_task(state: CaseState, task_id: str) -> TaskState:
    task = state.tasks.get(task_id)
    if task is None:
        raise TaskNotFound(f"no task with id {task_id!r}")
    return task


@dataclass
class CaseService:
    store: EventStore
    clock: Callable[[], datetime]
    catalogue_source: CatalogueSource

    # -- intake and routing -------------------------------------------------------------

    def receive(
        self, complaint: Complaint, *, actor: Actor, role: str, idempotency_key: str | None = None
    ) -> CommandResult:
        return receive_complaint(
            store=self.store,
            clock=self.clock,
            catalogue_source=self.catalogue_source,
            complaint=complaint,
            actor=actor,
            role=role,
            idempotency_key=idempotency_key,
        )

    def route_case(self, case_id: str) -> list[str]:
        return route_case(
            store=self.store,
            clock=self.clock,
            catalogue_source=self.catalogue_source,
            case_id=case_id,
        )

    def raise_sla_warning(self, task_id: str, stage: str, level: str) -> bool:
        """Idempotent per (task, stage, level): the domain returns no event the second time."""
        try:
            result = execute(
                store=self.store,
                clock=self.clock,
                case_id=case_id_of(task_id),
                command=c.RaiseSlaWarning(task_id=task_id, stage=stage, level=level),
                actor=SYSTEM,
                role="system",
                command_id=f"sla:{task_id}:{stage}:{level}",
            )
        except CaseNotFound:
            return False
        return bool(result.events)

    # -- the centre ----------------------------------------------------------------------

    def case_command(
        self,
        case_id: str,
        command: object | Factory,
        *,
        actor: Actor,
        role: str,
        if_match: int | None = None,
        command_id: str | None = None,
        scope: Callable[[CaseState], None] | None = None,
    ) -> CommandResult:
        return execute(
            store=self.store,
            clock=self.clock,
            case_id=case_id,
            command=command,
            actor=actor,
            role=role,
            command_id=command_id,
            if_match=if_match,
            scope=scope,
        )

    def dispatch(
        self,
        case_id: str,
        departments: list[tuple[str, str]],
        *,
        actor: Actor,
        role: str,
        if_match: int | None = None,
        command_id: str | None = None,
    ) -> CommandResult:
        """Manual (re)dispatch: naming a lead replaces the case's open lead/assist tasks."""
        number, catalogue = self._catalogue()
        now = self.clock()
        replace = any(task_role == "lead" for _code, task_role in departments)

        def command(state: CaseState) -> c.DispatchCase:
            assignments = assign(
                catalogue, number, state, departments, now=now, field="departments.{index}.code"
            )
            return c.DispatchCase(assignments=assignments, replace_open=replace)

        return self.case_command(
            case_id, command, actor=actor, role=role, if_match=if_match, command_id=command_id
        )

    def blow_whistle(
        self,
        case_id: str,
        departments: list[str],
        *,
        reason: str,
        report_within: timedelta,
        actor: Actor,
        role: str,
        if_match: int | None = None,
        command_id: str | None = None,
    ) -> CommandResult:
        """吹哨: a street summons departments on a case in its own territory."""
        number, catalogue = self._catalogue()
        now = self.clock()
        report_by = now + report_within
        whistle_id = "w_" + uuid.uuid4().hex[:12]

        def in_street(state: CaseState) -> None:
            if actor.street is None or state.location.street != actor.street:
                raise NotInScope(
                    f"only the officers of street {state.location.street!r} may blow the "
                    "whistle on this case"
                )

        def command(state: CaseState) -> c.BlowWhistle:
            summoned = [(code, "summoned") for code in departments]
            assignments = assign(
                catalogue,
                number,
                state,
                summoned,
                now=now,
                whistle_id=whistle_id,
                report_by=report_by,
            )
            return c.BlowWhistle(
                whistle_id=whistle_id,
                street=actor.street or "",
                departments=departments,
                reason=reason,
                report_by=report_by,
                assignments=assignments,
            )

        return self.case_command(
            case_id,
            command,
            actor=actor,
            role=role,
            if_match=if_match,
            command_id=command_id,
            scope=in_street,
        )

    def reopen(
        self,
        case_id: str,
        reason: str,
        *,
        actor: Actor,
        role: str,
        if_match: int | None = None,
        command_id: str | None = None,
    ) -> CommandResult:
        """重办: fresh tasks, with fresh deadlines, for the departments that replied before."""
        number, catalogue = self._catalogue()
        now = self.clock()

        def command(state: CaseState) -> c.ReopenCase:
            previous = [
                (task.department, task.role)
                for task in tasks_of(state)
                if task.role in ("lead", "assist") and task.state == "replied"
            ]
            unique = list(dict.fromkeys(previous))
            assignments = assign(catalogue, number, state, unique, now=now)
            return c.ReopenCase(reason=reason, assignments=assignments)

        return self.case_command(
            case_id, command, actor=actor, role=role, if_match=if_match, command_id=command_id
        )

    def merge(
        self,
        case_id: str,
        into: str,
        *,
        actor: Actor,
        role: str,
        if_match: int | None = None,
        command_id: str | None = None,
    ) -> CommandResult:
        if into == case_id:
            raise InvalidInput("into", "a case cannot be merged into itself")
        try:
            load_case(self.store, into)
        except CaseNotFound:
            raise InvalidInput("into", f"no case with id {into!r}") from None
        return self.case_command(
            case_id,
            c.MergeCase(into=into),
            actor=actor,
            role=role,
            if_match=if_match,
            command_id=command_id,
        )

    # -- the departments -----------------------------------------------------------------

    def task_command(
        self,
        task_id: str,
        command: object | Factory,
        *,
        actor: Actor,
        role: str,
        liaison_action: bool,
        if_match: int | None = None,
        command_id: str | None = None,
    ) -> CommandResult:
        """A department's action (liaison of that department only) or a ruling on it."""

        def scope(state: CaseState) -> None:
            task = find_task(state, task_id)
            if liaison_action and actor.department != task.department:
                raise NotInScope(
                    f"task {task_id} belongs to department {task.department!r}; "
                    "only its own liaisons may act on it"
                )

        return execute(
            store=self.store,
            clock=self.clock,
            case_id=case_id_of(task_id),
            command=command,
            actor=actor,
            role=role,
            command_id=command_id,
            if_match=if_match,
            scope=scope,
        )

    def request_extension(
        self, task_id: str, reply_by: datetime, reason: str, **options: object
    ) -> CommandResult:
        _number, catalogue = self._catalogue()

        def command(state: CaseState) -> c.RequestExtension:
            task = find_task(state, task_id)
            return c.RequestExtension(
                task_id=task_id,
                reply_by=reply_by,
                reason=reason,
                latest_allowed=latest_reply_by(catalogue, task),
            )

        return self.task_command(task_id, command, liaison_action=True, **options)  # type: ignore[arg-type]

    def approve_extension(self, task_id: str, note: str | None, **options: object) -> CommandResult:
        _number, catalogue = self._catalogue()

        def command(state: CaseState) -> c.ApproveExtension:
            task = find_task(state, task_id)
            return c.ApproveExtension(
                task_id=task_id, note=note, latest_allowed=latest_reply_by(catalogue, task)
            )

        return self.task_command(task_id, command, liaison_action=False, **options)  # type: ignore[arg-type]

    def _catalogue(self) -> tuple[int, Catalogue]:
        active = self.catalogue_source()
        if active is None:
            raise NoCatalogue()
        return active
