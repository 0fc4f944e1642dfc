"""The centre's buttons on a case: answer, callback, close, urge, park, unpark, reopen, merge.

Each is a row of the action table (``dispatch.handlers.actions``): its form fields, its body,
its roles and its note once done. Dispatch and the whistle have pages of their own (the
dispatcher's desk, the street).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.console.forms import FormInvalid, perform, refuse_form, text_fields, validate
from dispatch.console.i18n import N_
from dispatch.console.routes.login import safe_next
from dispatch.console.web import ConsoleError, ConsoleUser, PostedForm, container_of, redirect
from dispatch.handlers import CASE_ACTIONS, Issuer, Requested
from dispatch.handlers.bodies import MergeIn
from dispatch.queries.cases import list_cases

router = APIRouter()

OWN_PAGES = ("dispatch", "whistle")


def command_id(user: User, form: FormData) -> str | None:
    """The form's one-time id as the command id: a double-clicked button acts once."""
    form_id = str(form.get("form_id") or "")[:40]
    return f"web:{user.id}:{form_id}" if form_id else None


def issuer_of(user: User, role: str, form: FormData) -> Issuer:
    return Issuer(actor=user, role=role, command_id=command_id(user, form))


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
    chosen = CASE_ACTIONS.get(action)
    if chosen is None or action in OWN_PAGES:
        raise ConsoleError(404, N_("No such action."))
    if not user.has_any(*chosen.roles):
        raise ConsoleError(403, N_("This action is not for your role."))
    issuer = issuer_of(user, str(user.role_for(*chosen.roles)), form)
    back = safe_next(form.get("back") or f"/console/cases/{case_id}")
    try:
        body = validate(chosen.body, text_fields(form, *chosen.fields))
    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, back)
    if isinstance(body, MergeIn):
        body = MergeIn(into=case_id_for(request, user, body.into))
    container = container_of(request)
    command = Requested(chosen, body)
    perform(request, lambda: container.handle(case_id, command, issuer), done=chosen.done)
    return redirect(request, back)
