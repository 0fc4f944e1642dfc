"""巡查 on a phone (三巡一查零报告, DESIGN §8.7): the grid worker's day — today's rounds of its
own grid, a zero report (零报告) in one tap, and a finding with a photo and the device's position.

Both forms go through ``report_patrol`` (``dispatch.handlers.patrols``), as ``POST
/api/v1/patrols`` does: the grid is the worker's own (a hidden field the handler checks, so
another grid is the 403 page), and a finding becomes a case with channel ``patrol``. The photo
is judged and stored before the report and rides with the finding's case as an intake photo.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.catalogue import Catalogue
from dispatch.console.forms import FormInvalid, refuse_form, text_fields, validate, worded
from dispatch.console.i18n import N_
from dispatch.console.routes.intake import category_code
from dispatch.console.web import (
    ConsoleError,
    PostedForm,
    catalogue_of,
    container_of,
    gettext,
    language_of,
    redirect,
    render,
    require,
    session_of,
)
from dispatch.handlers import ApplicationError, InvalidInput, Issuer, NotInScope
from dispatch.handlers.bodies import PatrolIn
from dispatch.handlers.patrols import PatrolReport, new_report_id, report_patrol
from dispatch.handlers.uploads import Upload, store_upload
from dispatch.media import MediaRefused, upload_limit_bytes
from dispatch.queries.patrols import day_rounds

router = APIRouter()

GridWorker = Depends(require("grid"))
FINDING_FIELDS = ("round", "category", "description", "urgency", "address", "lat", "lon", "note")
# A round's state in the worker's words: reported with findings, zero, missed, still to report.
STATUS_WORDS = {
    "reported": N_("Reported"),
    "zero": N_("Zero report"),
    "missing": N_("Missed"),
    "due": N_("To report"),
}


def round_status(item: dict[str, Any]) -> str:
    if item["reported"]:
        return "zero" if item["zero"] else "reported"
    return "missing" if item["missing"] else "due"


def today_rounds(request: Request, user: User, catalogue: Catalogue) -> list[dict[str, Any]]:
    """The day's rounds of the user's grid (of its street's grids for ``street``), each with
    its ``status``."""
    container = container_of(request)
    now = container.clock()
    day: date = now.astimezone(catalogue.zone).date()
    container.fresh("patrol_reports")
    with container.store.reading() as conn:
        if user.has("grid"):
            items = day_rounds(conn, catalogue, user, day, now, grid=user.grid or "")
        else:
            items = day_rounds(conn, catalogue, user, day, now, street=user.street or "")
    return [{**item, "status": round_status(item)} for item in items]


@router.get("/patrol")
def patrol_page(request: Request, user: User = GridWorker) -> Response:
    catalogue = _catalogue(request)
    rounds = today_rounds(request, user, catalogue) if user.grid else []
    open_rounds = [r for r in rounds if not r["reported"]]
    context: dict[str, Any] = {
        "rounds": rounds,
        "open_rounds": open_rounds,
        "status_words": STATUS_WORDS,
        "grid": catalogue.grid(user.grid) if user.grid else None,
        "categories": catalogue.categories,
    }
    return render(request, "patrol.html", context)


@router.post("/patrol/zero")
def zero_report(request: Request, form: PostedForm, user: User = GridWorker) -> Response:
    """零报告: the round walked and nothing found, in one tap."""
    values = text_fields(form, "grid", "round")
    try:
        body = validate(PatrolIn, {"grid": values["grid"], "round": values["round"]})
    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, "/patrol")
    _report(request, user, body.report(), done=N_("Zero report sent for %(round)s."))
    return redirect(request, "/patrol")


@router.post("/patrol/finding")
def finding(request: Request, form: PostedForm, user: User = GridWorker) -> Response:
    """A problem found on the round: one case in the worker's grid, its photo attached."""
    catalogue = _catalogue(request)
    values = text_fields(form, *FINDING_FIELDS)
    grid = str(form.get("grid") or "")[:64]
    found = {
        "category": category_code(catalogue, values["category"]),
        "description": values["description"],
        "urgency": values["urgency"] or "normal",
        "location": {"address": values["address"], "lat": values["lat"], "lon": values["lon"]},
    }
    try:
        body = validate(
            PatrolIn,
            {"grid": grid, "round": values["round"], "note": values["note"], "findings": [found]},
        )
    except FormInvalid as problem:
        refuse_form(request, problem)
        return redirect(request, "/patrol")
    report = body.report()
    if report.grid != user.grid:
        # Before the photo is stored: a report for another grid leaves no file behind.
        raise ConsoleError(403, N_("This is not yours to act on."))
    try:
        report = _with_photo(request, user, form, report)
    except MediaRefused as refused:
        session_of(request).flash("error", refused.message(language_of(request)))
        return redirect(request, "/patrol")
    _report(request, user, report, done=N_("Patrol reported for %(round)s: case %(cases)s filed."))
    return redirect(request, "/patrol")


def _with_photo(request: Request, user: User, form: FormData, report: PatrolReport) -> PatrolReport:
    """The finding with its photos judged and stored as intake photos (``MediaRefused`` on the
    first unfit one); their EXIF position is never kept — the device's position is."""
    files = [f for f in form.getlist("photo") if isinstance(f, UploadFile) and f.filename]
    if not files or not report.findings:
        return report
    container = container_of(request)
    limit = upload_limit_bytes(container.settings)
    stored = tuple(
        store_upload(
            container.media_store,
            Upload(f.file.read(limit + 1), f.filename, f.content_type),
            max_bytes=limit,
            stage="intake",
            by=user.username,
        ).command
        for f in files
    )
    first = replace(report.findings[0], attachments=stored)
    return replace(report, findings=(first, *report.findings[1:]))


def _report(request: Request, user: User, report: PatrolReport, *, done: str) -> None:
    """Run the report; flash what was done or why it was refused (another grid: 403 page)."""
    container = container_of(request)
    issuer = Issuer(actor=user, role="grid")
    session = session_of(request)
    try:
        result = report_patrol(container.handling, new_report_id(), report, issuer)
    except NotInScope:
        raise ConsoleError(403, N_("This is not yours to act on.")) from None
    except (InvalidInput, ApplicationError) as error:
        session.flash("error", worded(request, error))
        return
    for case in result.cases:
        container.after_command(case)
    numbers = "、".join(case.state.case_no for case in result.cases)
    session.flash("ok", gettext(request, done) % {"round": result.round, "cases": numbers})


def _catalogue(request: Request) -> Catalogue:
    catalogue = catalogue_of(request)
    if catalogue is None:
        raise ConsoleError(409, N_("No catalogue is loaded yet: an administrator must load one."))
    return catalogue
