"""工作台: every role's landing page — its worklists as tabs with their counts, the chosen
one as a dense table with a filter bar, most urgent first, 50 rows a page; batch sign (批量签收)
for liaisons; and the console's live stream (the API's ``/stream``, by session cookie).
The queries are the API's (``GET /api/v1/worklists``), shared through dispatch.queries."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from dispatch.console.forms import worded
from dispatch.console.i18n import N_
from dispatch.console.labels import CHANNEL
from dispatch.console.web import (
    ConsoleError,
    ConsoleUser,
    PostedForm,
    catalogue_of,
    container_of,
    gettext,
    redirect,
    render,
    session_of,
    zone_of,
)
from dispatch.domain.case import DomainError
from dispatch.handlers import TASK_ACTIONS, ApplicationError, Issuer, Requested
from dispatch.live import StreamsFull, last_event_id, live_hub, stream_response
from dispatch.queries.kpi_settings import zone_and_weights
from dispatch.queries.worklist_items import Filters, Moment, worklist_counts, worklist_page
from dispatch.queries.worklist_keys import BY_KEY, NotYourWorklist, visible_worklists

router = APIRouter()

SHOWN = 100  # the dispatcher's desk shows the most urgent; this page pages through the rest
PAGE_SIZE = 50
BATCH_MAX = PAGE_SIZE  # one page's checkboxes at most

# Why a case is on 待派单, as the desk says it (``why.reason`` of the dispatch worklist).
WHY = {
    "unroutable": N_("No rule could route it"),
    "returned": N_("Returned by the department"),
    "cancelled": N_("Its tasks were cancelled"),
    "recalled": N_("Recalled to the centre"),
    "reopened": N_("Reopened, no new task yet"),
    "new": N_("New, not yet routed"),
}
CODES = ("channel", "nature", "category", "department", "street", "grid", "state")
NATURES = {
    "consult": N_("Consultation"),
    "help": N_("Request for help"),
    "complaint": N_("Complaint"),
    "report": N_("Report"),
    "suggestion": N_("Suggestion"),
}


def moment_of(request: Request) -> Moment:
    container = container_of(request)
    zone, _weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    now = container.clock()
    return Moment(now=now, today=now.astimezone(zone).date())


def _day(request: Request, text: str, *, after: bool = False) -> datetime | None:
    """A local date from the filter bar; ``after`` gives the next day's start (``to`` is
    inclusive on the page, exclusive in the query). Anything else is no bound."""
    try:
        day = datetime.strptime(text[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
    start = datetime.combine(day, time(), tzinfo=zone_of(request))
    return start + timedelta(days=1) if after else start


def _yes_no(text: str) -> bool | None:
    return {"yes": True, "no": False}.get(text)


def filters_of(request: Request) -> tuple[Filters, dict[str, str]]:
    """The filter bar's values (as typed, to fill the bar again) and the filters they make."""
    asked = {
        name: str(request.query_params.get(name) or "").strip()[:64]
        for name in (*CODES, "from", "to", "overdue", "urged")
    }
    codes = {name: asked[name] or None for name in CODES}
    filters = Filters(
        **codes,
        received_from=_day(request, asked["from"]),
        received_to=_day(request, asked["to"], after=True),
        overdue=_yes_no(asked["overdue"]),
        urged=_yes_no(asked["urged"]),
    )
    return filters, asked


def _page(request: Request) -> int:
    text = str(request.query_params.get("page") or "1")
    return max(1, min(int(text), 10_000)) if text.isdigit() else 1


@router.get("/worklists")
def worklists(request: Request, user: ConsoleUser, key: str = "") -> Response:
    lists = visible_worklists(user)
    if not lists:
        raise ConsoleError(403, N_("This page is not for your role."))
    chosen = BY_KEY.get(key) if key else lists[0]
    if chosen is None or chosen not in lists:
        raise ConsoleError(404, N_("No such worklist."))
    filters, asked = filters_of(request)
    page = _page(request)
    at = moment_of(request)
    catalogue = catalogue_of(request)
    if any(w.holds == "patrol" for w in lists):
        container_of(request).fresh("patrol_reports")  # 漏巡 reads the patrol ledger
    try:
        with container_of(request).store.reading() as conn:
            counts = worklist_counts(conn, user, lists, at=at)
            items, total = worklist_page(
                conn,
                user,
                chosen.key,
                at=at,
                filters=filters,
                page=page,
                page_size=PAGE_SIZE,
                catalogue=catalogue,
            )
    except NotYourWorklist:
        raise ConsoleError(403, N_("This is not yours to see.")) from None
    context: dict[str, Any] = {
        "lists": [(w, counts[w.key]) for w in lists],
        "chosen": chosen,
        "items": items,
        "total": total,
        "page": page,
        "page_count": max(1, -(-total // PAGE_SIZE)),
        "page_url": lambda number: "?" + urlencode({"key": chosen.key, **asked, "page": number}),
        "channels": list(CHANNEL),
        "asked": asked,
        "natures": NATURES,
        "grids": catalogue.grids if catalogue else [],
        "streets": catalogue.streets if catalogue else [],
        "categories": catalogue.categories if catalogue else [],
        "departments": catalogue.departments if catalogue else [],
        "batch_sign": chosen.key == "sign" and user.has("liaison"),
        "why": WHY,
    }
    return render(request, "worklists.html", context)


@router.post("/worklists/sign")
def batch_sign(request: Request, form: PostedForm, user: ConsoleUser) -> Response:
    """批量签收: each chosen task signed through the same handler as one sign; then one note
    of which were signed and one, in the rules' words, for each refused."""
    if not user.has("liaison"):
        raise ConsoleError(403, N_("Only a department's liaison may do this."))
    chosen = list(dict.fromkeys(str(task) for task in form.getlist("task") if task))[:BATCH_MAX]
    session = session_of(request)
    if not chosen:
        session.flash("error", gettext(request, N_("Choose the tasks to sign first.")))
        return redirect(request, "/worklists?key=sign")
    container = container_of(request)
    sign = TASK_ACTIONS["sign"]
    form_id = str(form.get("form_id") or "")[:40]
    signed: list[str] = []
    for task_id in chosen:
        label = str(form.get(f"case_no:{task_id}") or "")[:32] or gettext(request, N_("a task"))
        once = f"web:{user.id}:{form_id}:{task_id[:64]}" if form_id else None
        issuer = Issuer(actor=user, role="liaison", command_id=once)
        try:
            result = container.handle(task_id[:64], Requested(sign, sign.body()), issuer)
        except (ApplicationError, DomainError) as refused:
            session.flash("error", f"{label}: {worded(request, refused)}")
            continue
        container.after_command(result)
        signed.append(label)
    if signed:
        done = gettext(request, N_("Signed %(count)d: %(cases)s"))
        session.flash("ok", done % {"count": len(signed), "cases": "、".join(signed)})
    return redirect(request, "/worklists?key=sign")


@router.get("/stream")
def stream(request: Request, user: ConsoleUser) -> Response:
    """The console's EventSource: the API's stream, signed in by the session cookie."""
    try:
        since = last_event_id(request.headers.get("Last-Event-ID"))
    except ValueError:
        since = None  # an id we never sent: start from now
    try:
        return stream_response(live_hub(request), container_of(request), user, since=since)
    except StreamsFull:
        return Response(status_code=503, headers={"Retry-After": "10"})
