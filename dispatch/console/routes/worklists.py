"""工作台: every role's worklists as tabs with their counts, and the chosen one's items, most
urgent first (the same queries as ``GET /api/v1/worklists``, shared through dispatch.queries)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dispatch.console.i18n import N_
from dispatch.console.web import ConsoleError, ConsoleUser, catalogue_of, container_of, render
from dispatch.queries.kpi_settings import zone_and_weights
from dispatch.queries.worklist_items import Moment, worklist_counts, worklist_page
from dispatch.queries.worklist_keys import BY_KEY, visible_worklists

router = APIRouter()

SHOWN = 100  # a desk shows the most urgent; the API pages through the rest

# Why a case is on 待派单, as the desk says it (``why.reason`` of the dispatch worklist).
WHY = {
    "unroutable": N_("No rule could route it"),
    "returned": N_("Returned by the department"),
    "cancelled": N_("Its tasks were cancelled"),
    "recalled": N_("Recalled to the centre"),
    "reopened": N_("Reopened, no new task yet"),
    "new": N_("New, not yet routed"),
}


def moment_of(request: Request) -> Moment:
    container = container_of(request)
    zone, _weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    now = container.clock()
    return Moment(now=now, today=now.astimezone(zone).date())


@router.get("/worklists")
def worklists(request: Request, user: ConsoleUser, key: str = "") -> Response:
    lists = visible_worklists(user)
    if not lists:
        raise ConsoleError(403, N_("This page is not for your role."))
    chosen = BY_KEY.get(key) if key else lists[0]
    if chosen is None or chosen not in lists:
        raise ConsoleError(404, N_("No such worklist."))
    at = moment_of(request)
    with container_of(request).store.reading() as conn:
        counts = worklist_counts(conn, user, lists, at=at)
        items, total = worklist_page(
            conn, user, chosen.key, at=at, page_size=SHOWN, catalogue=catalogue_of(request)
        )
    context = {
        "lists": [(w, counts[w.key]) for w in lists],
        "chosen": chosen,
        "items": items,
        "total": total,
        "why": WHY,
    }
    return render(request, "worklists.html", context)
