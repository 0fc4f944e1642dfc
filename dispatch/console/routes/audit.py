"""A case's timeline (stages as bars with durations) and its audit trail: every event with
the hash chain recomputed, so tampering shows at the first event it touched."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.catalogue import work_calendar
from dispatch.console.charts import gantt
from dispatch.console.i18n import N_
from dispatch.console.routes.cases import SEARCH_ROLES
from dispatch.console.step_log import step_log
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
from dispatch.queries.cases import get_case
from dispatch.queries.scope import can_view_case
from dispatch.queries.staff_names import display_names
from events import GENESIS, RecordedEvent, as_utc, event_hash
from events.integrity import verify_log

router = APIRouter()

Auditor = Depends(require("supervisor", "dispatcher"))


def _visible_case(request: Request, user: User, case_id: str) -> dict[str, Any]:
    with container_of(request).store.reading() as conn:
        found = get_case(conn, case_id[:64])
    if found is None:
        raise ConsoleError(404, N_("No such case."))
    if not can_view_case(found, user):
        raise ConsoleError(403, N_("This case is outside your department's or street's scope."))
    return found


@router.get("/cases/{case_id}/timeline")
def timeline_page(
    request: Request, case_id: str, user: User = Depends(require(*SEARCH_ROLES))
) -> Response:
    case = _visible_case(request, user, case_id)
    container = container_of(request)
    catalogue = catalogue_of(request)
    calendar = work_calendar(catalogue) if catalogue else None
    now = container.clock()
    with container.store.reading() as conn:
        timeline = step_log(conn, case["id"], user, calendar, now=now)
    if timeline is None:
        raise ConsoleError(404, N_("No such case."))
    context = {
        "case": case,
        "timeline": timeline,
        "stages": gantt(timeline["stages"], now, label_key="stage", detail_key="department"),
        "holders": gantt(timeline["holders"], now, label_key="holder", detail_key="kind"),
    }
    return render(request, "timeline.html", context)


def chain_status(stream: list[RecordedEvent]) -> list[dict[str, Any]]:
    """Each event with whether its link and its hash hold, recomputed from its content."""
    rows = []
    previous = GENESIS
    for recorded in stream:
        digest = event_hash(
            prev_hash=recorded.prev_hash,
            stream_id=recorded.stream_id,
            version=recorded.version,
            type=recorded.type,
            schema_version=recorded.schema_version,
            data=recorded.data,
            meta=recorded.meta,
            recorded_at=as_utc(recorded.recorded_at),
        )
        rows.append(
            {
                "event": recorded,
                "linked": recorded.prev_hash == previous,
                "hash_ok": digest == recorded.hash,
            }
        )
        previous = recorded.hash
    return rows


@router.get("/cases/{case_id}/audit")
def audit_page(request: Request, case_id: str, user: User = Auditor) -> Response:
    case = _visible_case(request, user, case_id)
    container = container_of(request)
    stream = container.store.read_stream(case["id"])
    rows = chain_status(stream)
    intact = all(row["linked"] and row["hash_ok"] for row in rows)
    with container.store.reading() as conn:
        people = display_names(conn, (recorded.meta.get("actor") for recorded in stream))
    context = {"case": case, "rows": rows, "intact": intact, "people": people}
    return render(request, "audit.html", context)


@router.post("/audit/verify")
def verify_everything(
    request: Request, _form: PostedForm, user: User = Depends(require("supervisor"))
) -> Response:
    """Walk the whole log and its seals (``dispatch verify``); the outcome is a note."""
    report = verify_log(container_of(request).engine)
    session = session_of(request)
    if report.ok:
        text = gettext(request, N_("The whole log verifies: %(events)d events, %(seals)d seals."))
        session.flash("ok", text % {"events": report.events_checked, "seals": report.seals_checked})
    else:
        text = gettext(request, N_("The log does NOT verify:"))
        session.flash("error", f"{text} {report.problems[0]}")
    back = str(_form.get("back") or "/dashboard")
    return redirect(request, back if back.startswith("/console/") else "/dashboard")
