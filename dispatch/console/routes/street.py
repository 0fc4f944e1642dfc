"""街乡: a street officer reports problems in the street's grids, blows the whistle on
departments (吹哨) and sees who reported in (报到)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.console.forms import FormInvalid, perform, refuse_form, text_fields, validate
from dispatch.console.grid_panel import grid_panel
from dispatch.console.i18n import N_
from dispatch.console.routes.case_actions import issuer_of
from dispatch.console.routes.intake import blank_values, file_complaint, form_context
from dispatch.console.routes.login import safe_next
from dispatch.console.routes.patrol import STATUS_WORDS, today_rounds
from dispatch.console.web import (
    PostedForm,
    catalogue_of,
    container_of,
    redirect,
    render,
    require,
)
from dispatch.handlers import CASE_ACTIONS, Requested
from dispatch.queries.cases import list_cases
from dispatch.queries.live_tasks import live_departments
from dispatch.queries.worklists import OPEN_CASE, summoned_tasks

router = APIRouter()

Officer = Depends(require("street"))
# Report-in limits a street office actually gives (the body's ``report_within``), in words.
REPORT_WITHIN = (
    ("30m", N_("30 minutes")),
    ("1h", N_("1 hour")),
    ("2h", N_("2 hours")),
    ("4h", N_("4 hours")),
    ("8h", N_("8 hours")),
    ("24h", N_("1 day")),
    ("48h", N_("2 days")),
)
WHISTLE_STATUSES = tuple(status for status in OPEN_CASE if status != "parked")
PAGE_SIZE = 20


@router.get("/street")
def street_page(
    request: Request, page: int = 1, measure: str = "", user: User = Officer
) -> Response:
    street = user.street or ""
    page = min(max(page, 1), 10_000)
    with container_of(request).store.reading() as conn:
        cases, total = list_cases(
            conn, user, street=street, status=WHISTLE_STATUSES, page=page, page_size=PAGE_SIZE
        )
        summoned = summoned_tasks(conn, street, limit=100)
        holding = live_departments(conn, [case["id"] for case in cases])
    catalogue = catalogue_of(request)
    departments = catalogue.departments if catalogue else []
    context: dict[str, Any] = {
        "cases": cases,
        "total": total,
        "page": page,
        "page_count": max(1, -(-total // PAGE_SIZE)),
        "summoned": summoned,
        # Only departments not already holding a live task on that case can be summoned.
        "summonable": {
            case["id"]: [d for d in departments if d.code not in holding.get(case["id"], set())]
            for case in cases
        },
        "report_within": REPORT_WITHIN,
        "street_grids": [g for g in catalogue.grids if g.street == street] if catalogue else [],
        "grid_map": grid_panel(request, user, measure, street=street),
        # 三巡一查: today's rounds of the street's grids — reported, zero or missing.
        "patrol_rounds": today_rounds(request, user, catalogue) if catalogue else [],
        "status_words": STATUS_WORDS,
    }
    context.update(form_context(request, street=street))
    return render(request, "street.html", context)


@router.get("/street/report")
def report_page(request: Request, user: User = Officer) -> Response:
    context: dict[str, Any] = {"values": blank_values(), "errors": {}, "duplicates": []}
    context.update(form_context(request, street=user.street))
    return render(request, "report.html", context)


@router.post("/street/report")
def report(request: Request, form: PostedForm, user: User = Officer) -> Response:
    """A problem found on patrol: filed as a case from the street's own grids only."""
    return file_complaint(request, user, form, role="street", channel="patrol", page="report.html")


@router.post("/cases/{case_id}/whistle")
def blow_whistle(
    request: Request, case_id: str, form: PostedForm, user: User = Officer
) -> Response:
    """吹哨: the departments must report in (sign) within ``report_within``."""
    back = safe_next(form.get("back") or "/console/street")
    whistle = CASE_ACTIONS["whistle"]
    values: dict[str, Any] = text_fields(form, *whistle.fields)
    values["departments"] = list(dict.fromkeys(str(code) for code in form.getlist("departments")))
    try:
        body = validate(whistle.body, values)
    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, back)
    container = container_of(request)
    command = Requested(whistle, body)
    issuer = issuer_of(user, "street", form)
    perform(request, lambda: container.handle(case_id, command, issuer), done=whistle.done)
    return redirect(request, back)
