"""The departments' side of the story: sign (签收), return (退单), contact, extension, reply,
and the SLA warnings a late step earns on the way.

Each step is scheduled when the previous one is done, at a time drawn from the department's
diligence against the step's deadline (``scenario.step_time``); a step planned past its
yellow line or its deadline also schedules the warning the SLA timer would have raised.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.catalogue import warning_time, work_calendar
from dispatch.delivery.state import record_inbox_delivery
from dispatch.demo import scenario, texts
from dispatch.demo.agenda import DISPATCHER, SUPERVISOR, World, liaison
from dispatch.domain import commands as c
from dispatch.domain.case import CaseState, TaskState
from dispatch.domain.deadlines import latest_reply_by
from dispatch.domain.events import ReturnReason, UrgeLevel
from dispatch.domain.ids import case_id_of
from dispatch.handlers import (
    TASK_ACTIONS,
    CommandResult,
    Requested,
    load_case,
    sla_warning_raised,
)
from dispatch.handlers.bodies import ExtensionIn, RulingIn

RETURN_RATE = {"lead": 0.06, "assist": 0.02, "summoned": 0.0}
STREET_OFFICE_RETURN_RATE = 0.14
EXTENSION_RATE = 0.08
URGE_RATE = 0.35
PROGRESS_RATE = 0.1
RETURN_REASONS: tuple[ReturnReason, ...] = ("remit", "territory", "ownership", "other")
RETURN_REASON_WEIGHTS = (5, 3, 2, 1)


class DepartmentWork(World):
    def after_case_replied(self, case_id: str) -> None:  # the centre's part (CaseWork)
        raise NotImplementedError

    def after_summoned_task_replied(self, state: CaseState, task_id: str) -> None:
        raise NotImplementedError  # the street's part (Story): 双考核

    def redispatch_after_return(self, case_id: str, task: TaskState, reason: str) -> None:
        raise NotImplementedError

    # -- a new task ---------------------------------------------------------------------------

    def take_on(self, state: CaseState, task_ids: list[str]) -> None:
        """New tasks reached their departments' inboxes: plan each department's first step."""
        for task_id in task_ids:
            task = state.tasks[task_id]
            self.departments[task_id] = task.department
            record_inbox_delivery(
                self.container.engine,
                task_id=task_id,
                case_id=state.case_id,
                department=task.department,
                now=self.clock.now,
            )
            self.plan_sign(task, first=True)

    def plan_sign(self, task: TaskState, *, first: bool) -> None:
        rate = RETURN_RATE.get(task.role, 0.0)
        if task.department.endswith("-office"):
            rate = max(rate, STREET_OFFICE_RETURN_RATE) if task.role != "summoned" else 0.0
        if first and self.chance(rate):
            when = self._between(task.dispatched_at, task.deadlines.sign_by, 0.1, 0.7)
            self.agenda.at(when, self.request_return, task.task_id)
            return
        start = max(task.dispatched_at, self.clock.now)
        signed = scenario.step_time(self.rng, start, task.deadlines.sign_by, task.department)
        self.warn(task, "sign", task.deadlines.sign_by, signed)
        self.agenda.at(signed, self.sign, task.task_id)

    # -- the steps ----------------------------------------------------------------------------

    def sign(self, task_id: str) -> None:
        result = self._act("sign", task_id, c.SignTask(task_id=task_id))
        if result is None:
            return
        task = result.state.tasks[task_id]
        contacted = scenario.step_time(
            self.rng, self.clock.now, task.deadlines.contact_by, task.department
        )
        self.warn(task, "contact", task.deadlines.contact_by, contacted)
        self.agenda.at(contacted, self.contact, task_id)

    def contact(self, task_id: str) -> None:
        note = self.rng.choice(texts.CONTACT_NOTES)
        result = self._act("contact", task_id, c.ContactCitizen(task_id=task_id, note=note))
        if result is None:
            return
        task = result.state.tasks[task_id]
        if task.role == "lead" and task.policy != "emergency" and self.chance(EXTENSION_RATE):
            self.agenda.at(self.in_minutes(60, 1800), self.extend, task_id)
            return
        self.plan_reply(task)

    def plan_reply(self, task: TaskState) -> None:
        start = max(task.dispatched_at, self.clock.now - timedelta(hours=1))
        replied = scenario.step_time(self.rng, start, task.deadlines.reply_by, task.department)
        replied = max(replied, self.in_minutes(20, 240))
        self.warn(task, "reply", task.deadlines.reply_by, replied)
        if self.chance(PROGRESS_RATE):
            between = self.clock.now + (replied - self.clock.now) * self.rng.uniform(0.2, 0.8)
            self.agenda.at(between, self.note_progress, task.task_id)
        self.agenda.at(replied, self.reply, task.task_id)

    def note_progress(self, task_id: str) -> None:
        note = self.rng.choice(texts.PROGRESS_NOTES)
        self._act("progress", task_id, c.NoteProgress(task_id=task_id, note=note))

    def reply(self, task_id: str) -> None:
        resolution = self.rng.choice(texts.RESOLUTIONS)
        result = self._act("reply", task_id, c.ReplyTask(task_id=task_id, resolution=resolution))
        if result is not None and result.state.tasks[task_id].role == "summoned":
            self.after_summoned_task_replied(result.state, task_id)
        if result is not None and result.state.status == "replied":
            self.after_case_replied(result.case_id)

    # -- returns (退单) -----------------------------------------------------------------------

    def request_return(self, task_id: str) -> None:
        reason = self.rng.choices(RETURN_REASONS, RETURN_REASON_WEIGHTS)[0]
        basis = self.rng.choice(texts.RETURN_BASES[reason])
        command = c.RequestReturn(task_id=task_id, reason=reason, basis=basis)
        if self._act("return", task_id, command) is not None:
            ruling = self.in_minutes(20, 300)
            self.agenda.at(ruling, self.rule_on_return, task_id, reason)

    def rule_on_return(self, task_id: str, reason: str) -> None:
        approve = self.chance(0.7)
        command = (c.ApproveReturn if approve else c.RejectReturn)(task_id=task_id, note=None)
        result = self._rule("return/approve" if approve else "return/reject", task_id, command)
        if result is None:
            return
        task = result.state.tasks[task_id]
        if approve:
            self.redispatch_after_return(result.case_id, task, reason)
        else:
            self.plan_sign(task, first=False)

    # -- extensions (延期) ----------------------------------------------------------------------

    def extend(self, task_id: str) -> None:
        state, _version = load_case(self.container.store, case_id_of(task_id))
        task = state.tasks[task_id]
        wanted = task.deadlines.reply_by + timedelta(days=self.rng.choice((1, 2, 3, 5, 7)))
        wanted = min(
            wanted, latest_reply_by(task, work_calendar(self.catalogue))
        )  # what the form allows
        if wanted <= max(task.deadlines.reply_by, self.clock.now):
            self.plan_reply(task)
            return
        result = self.attempt(
            "extension",
            lambda: self.send(
                task_id,
                Requested(
                    TASK_ACTIONS["extension"],
                    ExtensionIn(reply_by=wanted, reason=self.rng.choice(texts.EXTENSION_REASONS)),
                ),
                liaison(task.department),
                "liaison",
            ),
        )
        if result is None:
            self.plan_reply(task)
            return
        ruling = self.in_minutes(60, 480)
        self.agenda.at(ruling, self.rule_on_extension, task_id)

    def rule_on_extension(self, task_id: str) -> None:
        if self.chance(0.8):
            result = self.attempt(
                "extension/approve",
                lambda: self.send(
                    task_id,
                    Requested(TASK_ACTIONS["extension/approve"], RulingIn()),
                    DISPATCHER,
                    "dispatcher",
                ),
            )
        else:
            command = c.DenyExtension(task_id=task_id, note="理由不充分，请按原时限办理。")
            result = self._rule("extension/deny", task_id, command)
        if result is not None:
            self.plan_reply(result.state.tasks[task_id])

    # -- SLA warnings and urging ----------------------------------------------------------------

    def warn(self, task: TaskState, stage: str, deadline: datetime, done_at: datetime) -> None:
        yellow = warning_time(task.dispatched_at, deadline, task.warn_at)
        if done_at > yellow:
            self.agenda.at(
                yellow, self.raise_warning, task.task_id, task.department, stage, "yellow"
            )
        if done_at > deadline:
            self.agenda.at(
                deadline, self.raise_warning, task.task_id, task.department, stage, "red"
            )

    def raise_warning(self, task_id: str, department: str, stage: str, level: str) -> None:
        if not sla_warning_raised(self.container.handling, task_id, stage, level):
            return
        self.tally[f"warning {level}"] += 1
        if level == "red" and self.chance(URGE_RATE):
            urge_at = self.in_minutes(30, 360)
            self.agenda.at(urge_at, self.urge, task_id, department)

    def urge(self, task_id: str, department: str) -> None:
        level: UrgeLevel = "supervision" if self.chance(0.25) else "reminder"
        command = c.UrgeCase(
            level=level, note=self.rng.choice(texts.URGE_NOTES), department=department
        )
        self.attempt(
            "urge",
            lambda: self.send(case_id_of(task_id), command, SUPERVISOR, "supervisor"),
        )

    # -- plumbing -------------------------------------------------------------------------------

    def _act(self, what: str, task_id: str, command: object) -> CommandResult | None:
        if task_id in self.withdrawn or case_id_of(task_id) in self.frozen:
            return None
        department = self.departments[task_id]
        return self.attempt(
            what,
            lambda: self.send(task_id, command, liaison(department), "liaison"),
        )

    def _rule(self, what: str, task_id: str, command: object) -> CommandResult | None:
        return self.attempt(
            what,
            lambda: self.send(task_id, command, DISPATCHER, "dispatcher"),
        )

    def _between(self, start: datetime, end: datetime, low: float, high: float) -> datetime:
        return start + (end - start) * self.rng.uniform(low, high)
