"""待回访: the operators' callback list — replied cases with no callback yet in this round,
the oldest first, each with the callback form inline (the same worklist as the API's
``callbacks``). Once rated, the case page offers what comes next: close, or after an
unsatisfied callback 重办 or a close with its override reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.console.routes.worklists import moment_of
from dispatch.console.web import container_of, render, require
from dispatch.queries.worklist_items import worklist_page

router = APIRouter()

SHOWN = 50


@router.get("/callbacks")
def callbacks(
    request: Request, page: int = 1, user: User = Depends(require("operator", "dispatcher"))
) -> Response:
    at = moment_of(request)
    page = max(1, min(page, 10_000))
    with container_of(request).store.reading() as conn:
        items, total = worklist_page(conn, user, "callbacks", at=at, page=page, page_size=SHOWN)
    pages = max(1, -(-total // SHOWN))
    context = {"items": items, "total": total, "page": page, "page_count": pages}
    return render(request, "callbacks.html", context)
