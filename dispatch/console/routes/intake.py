"""受理: the operator's intake form, in the order of a phone call — the caller's number first
(their earlier cases and likely duplicates appear at once), then who, what and where — with a
duplicate warning and the routing result at once."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue
from dispatch.console.forms import FormInvalid, text_fields, validate, worded
from dispatch.console.i18n import N_
from dispatch.console.web import (
    ConsoleError,
    PostedForm,
    catalogue_of,
    container_of,
    language_of,
    redirect,
    render,
    require,
)
from dispatch.handlers import (
    Complaint,
    InvalidInput,
    Issuer,
    NoCatalogue,
    NotInScope,
    new_case_id,
    routed_tasks,
)
from dispatch.handlers.bodies import IntakeIn
from dispatch.handlers.intake import check_in_own_street, place_complaint
from dispatch.handlers.uploads import LOCATION_KEEPERS, Upload, store_upload
from dispatch.media import MediaRefused, upload_limit_bytes
from dispatch.queries.similar import similar_cases
from dispatch.queries.worklists import likely_duplicates

router = APIRouter()

INTAKE_ROLES = ("operator", "dispatcher")
FIELDS = (
    "channel",
    "category",
    "urgency",
    "address",
    "grid",
    "lat",  # hidden: filled only when a device gives its position
    "lon",
    "description",
    "reporter_name",
    "reporter_phone",
    "nature",
    "answer",
)
# Kept when the form comes back (errors, a duplicate warning): check boxes and choices.
EXTRA_VALUES = ("form_id", "keep_location", "reporter_confidential", "category_code", "street")


def blank_values() -> dict[str, str]:
    return {name: "" for name in (*FIELDS, *EXTRA_VALUES)}


def category_code(catalogue: Catalogue, text: str | None, chosen: str | None = None) -> str | None:
    """What the picker sent: the code the combobox chose (``chosen``), else the typed text —
    a name, a code, or a part of exactly one name (the form works without script too)."""
    if chosen and catalogue.category(chosen):
        return chosen
    if not text:
        return None
    head = text.split(" ", 1)[0].strip()
    if catalogue.category(text) or catalogue.category(head):
        return text if catalogue.category(text) else head
    typed = text.strip()
    named = [c.code for c in catalogue.categories if c.name == typed]
    if not named:
        named = [c.code for c in catalogue.categories if typed in c.name]
    return named[0] if len(named) == 1 else text


def complaint_from(
    form: FormData, catalogue: Catalogue, *, channel: str, answering: bool = False
) -> Complaint:
    """The API's intake body from the form fields; ``FormInvalid`` names what is wrong.

    ``answering``: the operator pressed 直接答复并办结, so the answer text is required and the
    case is filed answered; otherwise a half-typed answer is ignored and the case is routed."""
    values = text_fields(form, *FIELDS)
    if answering and not values["answer"]:
        raise FormInvalid({"answer": N_("Write the answer given to the caller.")})
    body = {
        "channel": values["channel"] or channel,
        "nature": values["nature"],
        "answer": values["answer"] if answering else None,
        "category": category_code(catalogue, values["category"], _text(form, "category_code")),
        "description": values["description"],
        "urgency": values["urgency"] or "normal",
        "location": {
            "address": values["address"],
            "grid": values["grid"],
            "lat": values["lat"],
            "lon": values["lon"],
        },
        "reporter": {
            "name": values["reporter_name"],
            "phone": values["reporter_phone"],
            "confidential": form.get("reporter_confidential") == "true",
        },
    }
    return validate(IntakeIn, body).complaint()


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip()[:200] or None if isinstance(value, str) else None


def duplicates_of(request: Request, user: User, complaint: Complaint) -> list[dict[str, Any]]:
    catalogue = catalogue_of(request)
    if catalogue is None:
        return []
    try:
        location = place_complaint(catalogue, complaint)
    except InvalidInput:
        return []
    point = None
    if location.lat is not None and location.lon is not None:
        point = (location.lat, location.lon)
    container = container_of(request)
    with container.store.reading() as conn:
        return likely_duplicates(
            conn,
            user,
            category=complaint.category,
            grid=location.grid,
            point=point,
            now=container.clock(),
        )


def file_complaint(
    request: Request, user: User, form: FormData, *, role: str, channel: str, page: str
) -> Response:
    """Validate, warn about duplicates (unless confirmed), receive, route, show the case.

    ``form_id`` (a hidden field) is the idempotency key: a double-clicked submit files once.
    """
    catalogue = catalogue_of(request)
    if catalogue is None:
        raise ConsoleError(409, N_("No catalogue is loaded yet: an administrator must load one."))
    values = {name: form.get(name) or "" for name in (*FIELDS, *EXTRA_VALUES)}
    street = user.street if role == "street" else None
    answering = role in INTAKE_ROLES and form.get("intent") == "answer"
    try:
        complaint = complaint_from(form, catalogue, channel=channel, answering=answering)
        location = place_complaint(catalogue, complaint)
    except FormInvalid as problem:
        return _form_again(request, page, values, errors=problem.errors, street=street)
    except InvalidInput as error:
        errors = {error.field: worded(request, error)}
        return _form_again(request, page, values, errors=errors, street=street)
    if role == "street":
        try:
            check_in_own_street(
                user, location
            )  # before the duplicate warning; the handler checks too
        except NotInScope:
            errors = {"location": N_("Street officers report problems in their own street only.")}
            return _form_again(request, page, values, errors=errors, street=street)
    if not form.get("confirm_duplicate"):
        duplicates = duplicates_of(request, user, complaint)
        if duplicates:
            return _form_again(request, page, values, duplicates=duplicates, street=street)
    container = container_of(request)
    try:
        complaint = with_photos(container, user, form, complaint, role=role)
    except MediaRefused as refused:
        errors = {"photos": refused.message(language_of(request))}
        return _form_again(request, page, values, errors=errors, street=street)
    issuer = Issuer(actor=user, role=role, command_id=str(form.get("form_id") or "") or None)
    try:
        result = container.handle(new_case_id(), complaint, issuer)
    except InvalidInput as error:
        errors = {error.field: worded(request, error)}
        return _form_again(request, page, values, errors=errors, street=street)
    except NoCatalogue:
        raise ConsoleError(409, N_("No catalogue is loaded yet.")) from None
    container.after_command(result)
    routed_tasks(container.handling, result.case_id)  # no-op when already routed in-process
    return redirect(request, f"/cases/{result.case_id}?new=1")


def with_photos(
    container: Container, user: User, form: FormData, complaint: Complaint, *, role: str
) -> Complaint:
    """The complaint with its photos judged and stored (``MediaRefused`` on the first unfit
    one); with ``keep_location`` the first photo's position becomes the case's coordinates
    when the form gave none."""
    files = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return complaint
    limit = upload_limit_bytes(container.settings)
    keep = form.get("keep_location") == "true" and role in LOCATION_KEEPERS
    stored = [
        store_upload(
            container.media_store,
            Upload(f.file.read(limit + 1), f.filename, f.content_type),
            max_bytes=limit,
            stage="intake",
            by=user.username,
            keep_location=keep,
        )
        for f in files
    ]
    attachments = tuple(s.command for s in stored)
    located = next((s.gps for s in stored if s.gps is not None), None)
    if keep and located is not None and complaint.lat is None and complaint.lon is None:
        return replace(complaint, attachments=attachments, lat=located.lat, lon=located.lon)
    return replace(complaint, attachments=attachments)


def _form_again(
    request: Request,
    page: str,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    duplicates: list[dict[str, Any]] | None = None,
    street: str | None = None,
) -> Response:
    context = {"values": values, "errors": errors or {}, "duplicates": duplicates or []}
    context.update(form_context(request, street=street))
    return render(request, page, context, status=422 if errors else 200)


def form_context(request: Request, *, street: str | None = None) -> dict[str, Any]:
    """The pickers' choices; a street officer picks among the street's own grids."""
    catalogue = catalogue_of(request)
    grids = catalogue.grids if catalogue else []
    streets = catalogue.streets if catalogue else []
    return {
        "categories": catalogue.categories if catalogue else [],
        "streets": [s for s in streets if street is None or s.code == street],
        "grids": [grid for grid in grids if street is None or grid.street == street],
        "new_form_id": secrets.token_urlsafe(16),
        "keep_location_allowed": street is None,
    }


@router.get("/intake")
def intake_page(request: Request, _user: User = Depends(require(*INTAKE_ROLES))) -> Response:
    context: dict[str, Any] = {"values": blank_values(), "errors": {}, "duplicates": []}
    context.update(form_context(request))
    return render(request, "intake.html", context)


@router.post("/intake")
def intake(
    request: Request, form: PostedForm, user: User = Depends(require(*INTAKE_ROLES))
) -> Response:
    role = str(user.role_for(*INTAKE_ROLES))
    return file_complaint(request, user, form, role=role, channel="phone", page="intake.html")


@router.get("/intake/similar")
def similar(
    request: Request,
    phone: str = "",
    category: str = "",
    grid: str = "",
    user: User = Depends(require(*INTAKE_ROLES)),
) -> Response:
    """The caller's earlier cases and likely duplicates, as a fragment the form shows while
    the call goes on (the query behind ``GET /api/v1/cases/similar``)."""
    catalogue = catalogue_of(request)
    code = category_code(catalogue, category[:200]) if catalogue else None
    known = code if catalogue and code and catalogue.category(code) else None
    place = grid[:64] if known and grid and catalogue and catalogue.grid(grid[:64]) else None
    digits = phone.strip()[:20] or None
    items: list[dict[str, Any]] = []
    if digits or place:
        container = container_of(request)
        with container.store.reading() as conn:
            items = similar_cases(
                conn,
                user,
                now=container.clock(),
                key=container.settings.phone_index_key(),
                category=known,
                grid=place,
                phone=digits,
            )
    context = {"similar": items, "asked": bool(digits)}
    return render(request, "similar_cases.html", context, fragment=True)
