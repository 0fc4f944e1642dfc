"""The one table of what users may do on a case or a task (DESIGN.md §4).

Each ``Action`` says where it lives (``/cases/{id}/<path>`` or ``/tasks/{id}/<path>``), what
body it takes, how that body becomes a domain command, who may send it, and how the API and
the console present it. The API registers a route per row and the console a form per row;
``take_action`` (``dispatch.handlers.commands``) carries any of them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Literal, TypeVar

from dispatch.domain import commands as c
from dispatch.handlers import case_builds as build
from dispatch.handlers.bodies import (
    AnswerIn,
    Body,
    CallbackIn,
    CloseIn,
    DispatchIn,
    Empty,
    EvaluationIn,
    ExtensionIn,
    MergeIn,
    NoteIn,
    NoteRequired,
    ParkIn,
    ReasonIn,
    RecallIn,
    ReplyIn,
    ReturnIn,
    RulingIn,
    UrgeIn,
    WhistleIn,
)
from dispatch.handlers.situation import Situation

B = TypeVar("B", bound=Body)

CENTRE = ("operator", "dispatcher")
RULING = ("dispatcher", "supervisor")
URGING = ("supervisor", "dispatcher")


def N_(message: str) -> str:
    """Marks a console message for extraction; the console translates it when it shows it."""
    return message


@dataclass(frozen=True)
class Action(Generic[B]):
    """One command a user may send. ``fields`` are the console form's plain text fields,
    ``done`` the console's note once it is carried out (an English msgid)."""

    on: Literal["case", "task"]
    path: str
    body: type[B]
    build: Callable[[Situation, B], c.Command]
    roles: tuple[str, ...]
    summary: str
    fields: tuple[str, ...]
    done: str

    @property
    def own_department(self) -> bool:
        """A liaison's action: only the task's own department may take it (the handler
        checks, ``check_own_department``); the others are the centre's rulings."""
        return "liaison" in self.roles


@dataclass(frozen=True)
class Requested(Generic[B]):
    """``action`` with its validated ``body``: the command the API and the console send."""

    action: Action[B]
    body: B


# A row of the table: (path, body, build, roles, summary, console fields, console note).
_case = partial(Action, "case")
_task = partial(Action, "task")


CASE_ACTIONS: dict[str, Action[Any]] = {
    action.path: action
    for action in (
        _case(
            "dispatch",
            DispatchIn,
            build.dispatch_case,
            ("dispatcher",),
            "派单 manual (re)dispatch: naming a lead replaces the open tasks",
            (),
            N_("Dispatched."),
        ),
        _case(
            "whistle",
            WhistleIn,
            build.blow_whistle,
            ("street",),
            "吹哨 summon departments to report in within report_within (2h, 30m)",
            ("reason", "report_within"),
            N_("Whistle blown: the departments must report in."),
        ),
        _case(
            "answer",
            AnswerIn,
            lambda s, b: c.AnswerCase(answer=b.answer),
            CENTRE,
            "直接答复 answer: while no task is signed, the unsigned tasks are cancelled",
            ("answer",),
            N_("Answered."),
        ),
        _case(
            "callback",
            CallbackIn,
            lambda s, b: c.RecordCallback(
                solved=b.solved, satisfaction=b.satisfaction, note=b.note
            ),
            CENTRE,
            "回访 record the callback",
            ("solved", "satisfaction", "note"),
            N_("Callback recorded."),
        ),
        _case(
            "park",
            ParkIn,
            lambda s, b: c.ParkCase(plan=b.plan, review_on=b.review_on),
            RULING,
            "挂账 park with a plan",
            ("plan", "review_on"),
            N_("Case parked."),
        ),
        _case(
            "unpark",
            NoteIn,
            lambda s, b: c.UnparkCase(note=b.note),
            RULING,
            "解除挂账 unpark",
            ("note",),
            N_("Case unparked."),
        ),
        _case(
            "recall",
            RecallIn,
            lambda s, b: c.RecallCase(reason=b.reason),
            ("dispatcher",),
            "撤回 recall: cancel the unsigned tasks; the case waits to be dispatched again",
            ("reason",),
            N_("Recalled: the case waits to be dispatched again."),
        ),
        _case(
            "close",
            CloseIn,
            lambda s, b: c.CloseCase(note=b.note, override_reason=b.override_reason),
            CENTRE,
            "结案 close; after an unsatisfied callback only with an override_reason",
            ("note", "override_reason"),
            N_("Case closed."),
        ),
        _case(
            "urge",
            UrgeIn,
            lambda s, b: c.UrgeCase(level=b.level, note=b.note, department=b.department),
            URGING,
            "催办/督办 urge",
            ("level", "note", "department"),
            N_("Urged."),
        ),
        _case(
            "reopen",
            ReasonIn,
            build.reopen_case,
            RULING,
            "重办 reopen: new tasks with fresh deadlines for the departments that replied",
            ("reason",),
            N_("Case reopened: new tasks dispatched."),
        ),
        _case(
            "merge",
            MergeIn,
            build.merge_case,
            CENTRE,
            "并案 merge a duplicate into another case; its open tasks are cancelled",
            ("into",),
            N_("Case merged."),
        ),
    )
}

TASK_ACTIONS: dict[str, Action[Any]] = {
    action.path: action
    for action in (
        _task(
            "sign",
            Empty,
            lambda s, b: c.SignTask(task_id=s.target),
            ("liaison",),
            "签收 sign for the task",
            (),
            N_("Signed."),
        ),
        _task(
            "return",
            ReturnIn,
            lambda s, b: c.RequestReturn(task_id=s.target, reason=b.reason, basis=b.basis),
            ("liaison",),
            "退单 ask to return a misrouted task",
            ("reason", "basis"),
            N_("Return requested: a dispatcher will rule on it."),
        ),
        _task(
            "contact",
            NoteRequired,
            lambda s, b: c.ContactCitizen(task_id=s.target, note=b.note),
            ("liaison",),
            "联系 contact",
            ("note",),
            N_("Contact recorded."),
        ),
        _task(
            "progress",
            NoteRequired,
            lambda s, b: c.NoteProgress(task_id=s.target, note=b.note),
            ("liaison",),
            "进展 progress",
            ("note",),
            N_("Progress noted."),
        ),
        _task(
            "reply",
            ReplyIn,
            build.reply_task,
            ("liaison",),
            "办结 reply with the resolution",
            ("resolution",),
            N_("Replied: the centre will call the citizen back."),
        ),
        _task(
            "extension",
            ExtensionIn,
            build.request_extension,
            ("liaison",),
            "延期 ask for a later reply_by",
            ("reply_by", "reason"),
            N_("Extension requested: a dispatcher will rule on it."),
        ),
        _task(
            "evaluation",
            EvaluationIn,
            lambda s, b: c.EvaluateTask(
                task_id=s.target, street=s.issuer.actor.street or "", rating=b.rating, note=b.note
            ),
            ("street",),
            "双考核 the summoning street rates a replied summoned task, once",
            ("rating", "note"),
            N_("Rated: the department's evaluation is recorded."),
        ),
        _task(
            "return/approve",
            RulingIn,
            lambda s, b: c.ApproveReturn(task_id=s.target, note=b.note),
            ("dispatcher",),
            "同意退单 approve a return",
            ("note",),
            N_("Return approved: the case is back with the centre."),
        ),
        _task(
            "return/reject",
            RulingIn,
            lambda s, b: c.RejectReturn(task_id=s.target, note=b.note),
            ("dispatcher",),
            "驳回退单 reject a return",
            ("note",),
            N_("Return rejected: the department must sign again."),
        ),
        _task(
            "extension/approve",
            RulingIn,
            build.approve_extension,
            ("dispatcher",),
            "同意延期 approve an extension",
            ("note",),
            N_("Extension approved."),
        ),
        _task(
            "extension/deny",
            RulingIn,
            lambda s, b: c.DenyExtension(task_id=s.target, note=b.note),
            ("dispatcher",),
            "不予延期 deny an extension",
            ("note",),
            N_("Extension denied."),
        ),
    )
}
