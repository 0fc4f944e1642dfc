"""部门待办: a liaison's inbox with countdowns, and every button on a task (theirs, or the
dispatcher's rulings), each a row of the action table (``dispatch.handlers.actions``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.console.buttons import row_buttons
from dispatch.console.forms import FormInvalid, perform, refuse_form, text_fields, validate
from dispatch.console.i18n import N_
from dispatch.console.routes.attachments import add_reply_photos
from dispatch.console.routes.case_actions import issuer_of
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
from dispatch.handlers import TASK_ACTIONS, Requested
from dispatch.queries.tasks import list_tasks
from dispatch.queries.worklists import case_descriptions

router = APIRouter()


@router.get("/inbox")
def inbox(
    request: Request, show: str = "open", user: User = Depends(require("liaison"))
) -> Response:
    """The liaison's own department only, whatever is asked (``list_tasks`` forces it); the
    most urgent first, so the overdue task is at the top, never under 90 fresh ones."""
    state = "open" if show != "all" else None
    with container_of(request).store.reading() as conn:
        items, total = list_tasks(
            conn,
            user,
            department=user.department or "",
            state=state,
            page_size=100,
            most_urgent_first=True,
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
    chosen = TASK_ACTIONS.get(action)
    if chosen is None:
        raise ConsoleError(404, N_("No such action."))
    if chosen.own_department and not user.has("liaison"):
        raise ConsoleError(403, N_("Only a department's liaison may do this."))
    if not chosen.own_department and not user.has("dispatcher"):
        raise ConsoleError(403, N_("Only a dispatcher may rule on this."))
    issuer = issuer_of(user, str(user.role_for(*chosen.roles)), form)
    back = safe_next(form.get("back") or "/console/inbox")
    values = text_fields(form, *chosen.fields)
    if "reply_by" in values:
        values["reply_by"] = local_deadline(request, values["reply_by"])
    try:
        body = validate(chosen.body, values)
    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, back)
    if action == "reply" and not add_reply_photos(request, user, task_id, form, issuer):
        return redirect(request, back)
    container = container_of(request)
    command = Requested(chosen, body)
    perform(request, lambda: container.handle(task_id, command, issuer), done=chosen.done)
    return redirect(request, back)
