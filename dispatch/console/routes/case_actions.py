"""The centre's buttons on a case: answer, callback, close, urge, park, unpark, reopen, merge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.responses import Response

from dispatch.api.routes.case_commands import (
    AnswerIn,
    CallbackIn,
    MergeIn,
    NoteIn,
    ParkIn,
    ReasonIn,
    UrgeIn,
)
from dispatch.auth.users import User
from dispatch.console.buttons import CASE_ACTION_ROLES
from dispatch.console.forms import FormInvalid, perform, refuse_form, text_fields, validate
from dispatch.console.i18n import N_
from dispatch.console.routes.login import safe_next
from dispatch.console.web import ConsoleError, ConsoleUser, PostedForm, container_of, redirect
from dispatch.domain import commands as c
from dispatch.handlers import CommandResult
from dispatch.queries.cases import list_cases

router = APIRouter()

Build = Callable[[Any], object]

# action → (form fields, body type, body → domain command, what the flash says)
SIMPLE: dict[str, tuple[tuple[str, ...], type[BaseModel], Build, str]] = {
    "answer": (("answer",), AnswerIn, lambda b: c.AnswerCase(answer=b.answer), N_("Answered.")),
    "callback": (
        ("solved", "satisfaction", "note"),
        CallbackIn,
        lambda b: c.RecordCallback(solved=b.solved, satisfaction=b.satisfaction, note=b.note),
        N_("Callback recorded."),
    ),
    "close": (("note",), NoteIn, lambda b: c.CloseCase(note=b.note), N_("Case closed.")),
    "urge": (
        ("level", "note", "department"),
        UrgeIn,
        lambda b: c.UrgeCase(level=b.level, note=b.note, department=b.department),
        N_("Urged."),
    ),
    "park": (
        ("plan", "review_on"),
        ParkIn,
        lambda b: c.ParkCase(plan=b.plan, review_on=b.review_on),
        N_("Case parked."),
    ),
    "unpark": (("note",), NoteIn, lambda b: c.UnparkCase(note=b.note), N_("Case unparked.")),
}


def command_id(user: User, form: FormData) -> str | None:
    """The form's one-time id as the command id: a double-clicked button acts once."""
    form_id = str(form.get("form_id") or "")[:40]
    return f"web:{user.id}:{form_id}" if form_id else None


def case_id_for(request: Request, user: User, text: str) -> str:
    """``merge into`` takes a case number (what operators see) or a case id."""
    with container_of(request).store.reading() as conn:
        items, _ = list_cases(conn, user, q=text, page_size=5)
    numbered = [item["id"] for item in items if item["case_no"] == text]
    return numbered[0] if numbered else text


@router.post("/cases/{case_id}/{action}")
def case_action(
    request: Request, case_id: str, action: str, form: PostedForm, user: ConsoleUser
) -> Response:
    roles = CASE_ACTION_ROLES.get(action)
    if roles is None or action in ("dispatch", "whistle"):
        raise ConsoleError(404, N_("No such action."))
    if not user.has_any(*roles):
        raise ConsoleError(403, N_("This action is not for your role."))
    role = str(user.role_for(*roles))
    back = safe_next(form.get("back") or f"/console/cases/{case_id}")
    cases = container_of(request).cases
    options: dict[str, Any] = {"actor": user, "role": role, "command_id": command_id(user, form)}
    action_call: Callable[[], CommandResult]
    done: str
    try:
        if action in SIMPLE:
            fields, body_type, build, done = SIMPLE[action]
            body = validate(body_type, text_fields(form, *fields))
            command = build(body)

            def action_call() -> CommandResult:
                return cases.case_command(case_id, command, **options)

        elif action == "reopen":
            reason = validate(ReasonIn, text_fields(form, "reason")).reason
            done = N_("Case reopened: new tasks dispatched.")

            def action_call() -> CommandResult:
                return cases.reopen(case_id, reason, **options)

        elif action == "merge":
            into = validate(MergeIn, text_fields(form, "into")).into
            target = case_id_for(request, user, into)
            done = N_("Case merged.")

            def action_call() -> CommandResult:
                return cases.merge(case_id, target, **options)

        else:
            raise ConsoleError(404, N_("No such action."))
    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, back)
    perform(request, action_call, done=done)
    return redirect(request, back)
