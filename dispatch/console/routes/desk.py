"""派单/审核: the dispatcher's desk — the worklists' counts, 待派单 with why each case is there,
待审核 with its rulings inline, 待回访, dead letters — and manual dispatch with the routing
advice in one line, the catalogue's candidates first and never the department that returned
the case pre-selected."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.catalogue import explain, routing_advice
from dispatch.console.forms import FormInvalid, perform, refuse_form, validate
from dispatch.console.i18n import N_
from dispatch.console.routes.case_actions import issuer_of
from dispatch.console.routes.worklists import SHOWN, WHY, moment_of
from dispatch.console.web import (
    ConsoleError,
    PostedForm,
    catalogue_of,
    container_of,
    gettext,
    redirect,
    render,
    require,
    session_of,
)
from dispatch.delivery.replay import ReplayRefused, replay
from dispatch.delivery.state import list_dead_letters
from dispatch.handlers import CASE_ACTIONS, Requested
from dispatch.queries.cases import get_case
from dispatch.queries.masking import present_case
from dispatch.queries.worklist_items import worklist_counts, worklist_page
from dispatch.queries.worklist_keys import visible_worklists

router = APIRouter()

Dispatcher = Depends(require("dispatcher"))


@router.get("/desk")
def desk(request: Request, user: User = Dispatcher) -> Response:
    at = moment_of(request)
    lists = visible_worklists(user)
    catalogue = catalogue_of(request)
    with container_of(request).store.reading() as conn:
        counts = worklist_counts(conn, user, lists, at=at)
        to_dispatch, to_dispatch_total = worklist_page(
            conn, user, "dispatch", at=at, page_size=SHOWN, catalogue=catalogue
        )
        rulings, rulings_total = worklist_page(conn, user, "rulings", at=at, page_size=SHOWN)
        replied, replied_total = worklist_page(conn, user, "callbacks", at=at, page_size=50)
        letters, letters_total = list_dead_letters(conn, state="open", limit=50)
    context = {
        "lists": [(w, counts[w.key]) for w in lists],
        "to_dispatch": to_dispatch,
        "to_dispatch_total": to_dispatch_total,
        "why": WHY,
        "rulings": rulings,
        "rulings_total": rulings_total,
        "replied": replied,
        "replied_total": replied_total,
        "letters": letters,
        "letters_total": letters_total,
    }
    return render(request, "desk.html", context)


@router.get("/cases/{case_id}/dispatch")
def dispatch_page(request: Request, case_id: str, user: User = Dispatcher) -> Response:
    """The case, why the rules route it where they do (or cannot), and the dispatch form."""
    with container_of(request).store.reading() as conn:
        found = get_case(conn, case_id[:64])
    if found is None:
        raise ConsoleError(404, N_("No such case."))
    catalogue = catalogue_of(request)
    returned = {
        task["department"]: task["return"] for task in found["tasks"] if task["state"] == "returned"
    }
    explanation: dict[str, Any] | None = None
    advice = None
    if catalogue is not None:
        where = {"category": found["category"], "location": found["location"]}
        explanation = explain(catalogue, **where)
        advice = routing_advice(catalogue, **where, exclude=returned)
    suggested = list(advice.suggested) if advice else []
    departments = catalogue.departments if catalogue else []
    open_departments = {
        task["department"]: task["role"]
        for task in found["tasks"]
        if task["state"] not in ("returned", "cancelled", "replied")
    }
    context = {
        "case": present_case(found, user),
        "explanation": explanation,
        "advice": advice,
        "rules": [r for r in (explanation or {}).get("candidates", []) if _weighed(r)],
        "suggested": [d for code in suggested for d in departments if d.code == code],
        "others": [d for d in departments if d.code not in suggested],
        "returned": returned,
        "open_departments": open_departments,
    }
    return render(request, "dispatch.html", context)


def _weighed(rule: dict[str, Any]) -> bool:
    """A rule written for the case's category (the others are noise on this page)."""
    return bool(rule["matched"]) or not str(rule["reason"]).startswith("category ")


@router.post("/cases/{case_id}/dispatch")
def dispatch_case(
    request: Request, case_id: str, form: PostedForm, user: User = Dispatcher
) -> Response:
    """派单: a lead and any assisting departments; naming a lead replaces the open tasks."""
    lead = str(form.get("lead") or "").strip()
    assist = [str(code) for code in form.getlist("assist") if code and code != lead]
    chosen = ([{"code": lead, "role": "lead"}] if lead else []) + [
        {"code": code, "role": "assist"} for code in dict.fromkeys(assist)
    ]
    dispatch = CASE_ACTIONS["dispatch"]
    try:
        body = validate(dispatch.body, {"departments": chosen})
    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, f"/cases/{case_id}/dispatch")
    container = container_of(request)
    command = Requested(dispatch, body)
    issuer = issuer_of(user, "dispatcher", form)
    result = perform(
        request, lambda: container.handle(case_id, command, issuer), done=dispatch.done
    )
    return redirect(request, f"/cases/{case_id}" if result else f"/cases/{case_id}/dispatch")


@router.post("/deliveries/{letter_id}/replay")
def replay_dead_letter(
    request: Request, letter_id: int, _form: PostedForm, user: User = Dispatcher
) -> Response:
    """Replay as the API does (``dispatch.delivery.replay``), so the rules live in one place."""
    session = session_of(request)
    container = container_of(request)
    try:
        replay(
            container.store,
            letter_id,
            by=user.username,
            clock=container.clock,
            redis_url=container.redis_url,
        )
    except ReplayRefused as refused:
        session.flash("error", f"{gettext(request, N_('Not possible now.'))} {refused}")
    else:
        session.flash("ok", gettext(request, N_("Delivery queued again.")))
    return redirect(request, "/desk")
