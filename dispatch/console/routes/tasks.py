"""部门待办: a liaison's inbox with countdowns, and every button on a task (theirs, or the
dispatcher's rulings)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.responses import Response

from dispatch.api.routes.task_commands import (
    Empty,
    ExtensionIn,
    NoteRequired,
    ReplyIn,
    ReturnIn,
    RulingIn,
)
from dispatch.auth.users import User
from dispatch.console.buttons import LIAISON_ACTIONS, RULINGS, row_buttons
from dispatch.console.forms import FormInvalid, perform, refuse_form, text_fields, validate
from dispatch.console.i18n import N_
from dispatch.console.routes.case_actions import command_id
from dispatch.console.routes.login import safe_next
from dispatch.console.web import (
    ConsoleError,
    ConsoleUser,
    PostedForm,
    container_of,
    redirect,
    render,
    require,
    zone_of,
)
from dispatch.domain import commands as c
from dispatch.handlers import CommandResult
from dispatch.queries.tasks import list_tasks
from dispatch.queries.worklists import case_descriptions

router = APIRouter()

Build = Callable[[str, Any], object]

# action → (form fields, body type, (task id, body) → domain command, what the flash says)
TASK_COMMANDS: dict[str, tuple[tuple[str, ...], type[BaseModel], Build, str]] = {
    "sign": ((), Empty, lambda t, b: c.SignTask(task_id=t), N_("Signed.")),
    "contact": (
        ("note",),
        NoteRequired,
        lambda t, b: c.ContactCitizen(task_id=t, note=b.note),
        N_("Contact recorded."),
    ),
    "progress": (
        ("note",),
        NoteRequired,
        lambda t, b: c.NoteProgress(task_id=t, note=b.note),
        N_("Progress noted."),
    ),
    "reply": (
        ("resolution",),
        ReplyIn,
        lambda t, b: c.ReplyTask(task_id=t, resolution=b.resolution),
        N_("Replied: the centre will call the citizen back."),
    ),
    "return": (
        ("reason", "basis"),
        ReturnIn,
        lambda t, b: c.RequestReturn(task_id=t, reason=b.reason, basis=b.basis),
        N_("Return requested: a dispatcher will rule on it."),
    ),
    "return/approve": (
        ("note",),
        RulingIn,
        lambda t, b: c.ApproveReturn(task_id=t, note=b.note),
        N_("Return approved: the case is back with the centre."),
    ),
    "return/reject": (
        ("note",),
        RulingIn,
        lambda t, b: c.RejectReturn(task_id=t, note=b.note),
        N_("Return rejected: the department must sign again."),
    ),
    "extension/deny": (
        ("note",),
        RulingIn,
        lambda t, b: c.DenyExtension(task_id=t, note=b.note),
        N_("Extension denied."),
    ),
}


@router.get("/inbox")
def inbox(
    request: Request, show: str = "open", user: User = Depends(require("liaison"))
) -> Response:
    """The liaison's own department only, whatever is asked (``list_tasks`` forces it)."""
    state = "open" if show != "all" else None
    with container_of(request).store.reading() as conn:
        items, total = list_tasks(
            conn, user, department=user.department or "", state=state, page_size=100
        )
        described = case_descriptions(conn, [item["case_id"] for item in items])
    for item in items:
        item["buttons"] = row_buttons(user, item)
        item["case"]["description"] = described.get(item["case_id"], "")
    context = {"items": items, "total": total, "show": "all" if state is None else "open"}
    return render(request, "inbox.html", context)


def local_deadline(request: Request, text: str | None) -> str | None:
    """``2026-11-20T18:00`` from a datetime-local field, in the catalogue's time zone."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the body's validation names the field
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_of(request))
    return moment.isoformat()


@router.post("/tasks/{task_id}/{action:path}")
def task_action(
    request: Request, task_id: str, action: str, form: PostedForm, user: ConsoleUser
) -> Response:
    """A department's action (its own liaisons only: another's gets the 403 page) or a
    dispatcher's ruling."""
    if action in LIAISON_ACTIONS:
        if not user.has("liaison"):
            raise ConsoleError(403, N_("Only a department's liaison may do this."))
        role, liaison_action = "liaison", True
    elif action in RULINGS:
        if not user.has("dispatcher"):
            raise ConsoleError(403, N_("Only a dispatcher may rule on this."))
        role, liaison_action = "dispatcher", False
    else:
        raise ConsoleError(404, N_("No such action."))
    back = safe_next(form.get("back") or "/console/inbox")
    cases = container_of(request).cases
    options: dict[str, Any] = {"actor": user, "role": role, "command_id": command_id(user, form)}
    action_call: Callable[[], CommandResult]
    try:
        if action == "extension":
            values = text_fields(form, "reply_by", "reason")
            values["reply_by"] = local_deadline(request, values["reply_by"])
            body = validate(ExtensionIn, values)
            done = N_("Extension requested: a dispatcher will rule on it.")

            def action_call() -> CommandResult:
                return cases.request_extension(task_id, body.reply_by, body.reason, **options)

        elif action == "extension/approve":
            note = validate(RulingIn, text_fields(form, "note")).note
            done = N_("Extension approved.")

            def action_call() -> CommandResult:
                return cases.approve_extension(task_id, note, **options)

        else:
            fields, body_type, build, done = TASK_COMMANDS[action]
            command = build(task_id, validate(body_type, text_fields(form, *fields)))

            def action_call() -> CommandResult:
                return cases.task_command(
                    task_id, command, liaison_action=liaison_action, **options
                )

    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, back)
    perform(request, action_call, done=done)
    return redirect(request, back)
