"""Case search (number, phone, address, words) and the case page with its buttons."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.catalogue import work_calendar
from dispatch.console.buttons import case_buttons, task_buttons
from dispatch.console.i18n import N_
from dispatch.console.routes.attachments import photo_columns
from dispatch.console.step_log import step_log
from dispatch.console.web import ConsoleError, catalogue_of, container_of, render, require
from dispatch.domain.case import CaseState
from dispatch.handlers import CaseNotFound
from dispatch.handlers.executor import load_case
from dispatch.queries.case_numbers import case_numbers
from dispatch.queries.cases import capped_total, get_case, list_cases
from dispatch.queries.masking import liaison_sees_phone, present_case, sees_phone_numbers
from dispatch.queries.phone_views import record_phone_view
from dispatch.queries.reporters import cases_by_phone, looks_like_phone
from dispatch.queries.scope import can_view_case

router = APIRouter()

SEARCH_ROLES = ("operator", "dispatcher", "supervisor", "liaison", "street", "admin")
STATUSES = ("received", "dispatched", "in_progress", "replied", "closed", "answered", "parked")


def callback_unsatisfied(state: CaseState) -> bool:
    """回访不满意 in this round: closing then needs an override reason (else reopen)."""
    last = state.last_callback
    return last is not None and last.round == state.reopen_count and last.unsatisfied


@router.get("/cases")
def search(
    request: Request,
    q: str = "",
    status: str = "",
    page: int = 1,
    grid: str = "",
    overdue: str = "",
    user: User = Depends(require(*SEARCH_ROLES)),
) -> Response:
    """One box: a case number, the caller's phone (hotline staff only), an address or words.
    ``grid`` and ``overdue=1`` narrow it (the grid map links here)."""
    query = q.strip()[:200]
    in_grid = grid.strip()[:64] or None
    late = True if overdue == "1" else None
    chosen = status if status in STATUSES else None
    page = min(max(page, 1), 10_000)
    by_phone: list[dict[str, Any]] = []
    container = container_of(request)
    with container.store.reading() as conn:
        if query and looks_like_phone(query) and sees_phone_numbers(user):
            key = container.settings.phone_index_key()
            by_phone = cases_by_phone(conn, user, query, key=key)
        items, total = list_cases(
            conn,
            user,
            q=query or None,
            status=chosen,
            grid=in_grid,
            overdue=late,
            page=page,
            page_size=25,
        )
    shown, capped = capped_total(total, query)
    seen = {item["id"] for item in by_phone}
    merged = by_phone + [item for item in items if item["id"] not in seen]
    context = {
        "q": query,
        "status": chosen or "",
        "grid": in_grid or "",
        "overdue": "1" if late else "",
        "statuses": STATUSES,
        "items": merged,
        "total": shown + len(by_phone),
        "total_capped": capped,
        "phone_matches": len(by_phone),
        "page": page,
        "page_count": max(1, -(-shown // 25)),
    }
    return render(request, "cases.html", context)


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: str, new: int = 0, user: User = Depends(require(*SEARCH_ROLES))
) -> Response:
    container = container_of(request)
    with container.store.reading() as conn:
        found = get_case(conn, case_id[:64])
    if found is None:
        raise ConsoleError(404, N_("No such case."))
    if not can_view_case(found, user):
        raise ConsoleError(403, N_("This case is outside your department's or street's scope."))
    try:
        state, _version = load_case(container.store, case_id)
    except CaseNotFound:
        raise ConsoleError(404, N_("No such case.")) from None
    buttons = {task_id: task_buttons(user, task, state) for task_id, task in state.tasks.items()}
    catalogue = catalogue_of(request)
    calendar = work_calendar(catalogue) if catalogue else None
    with container.store.reading() as conn:
        steps = step_log(conn, found["id"], user, calendar, now=container.clock())
        merged_into_no = case_numbers(conn, [found.get("merged_into")]).get(
            found.get("merged_into") or ""
        )
    # The liaison who must call the reporter sees the number (and a tel: link); logged.
    must_call = not sees_phone_numbers(user) and liaison_sees_phone(found, user)
    if must_call:
        record_phone_view(
            container.engine, found["id"], user, route="GET /console/cases/{id}",
            now=container.clock(),
        )  # fmt: skip
    context = {
        "case": present_case(found, user),
        "call_phone": must_call or sees_phone_numbers(user),
        "phone_view_logged": must_call,
        "case_buttons": case_buttons(user, state),
        "task_buttons": buttons,
        "new": bool(new),
        "answer": state.answer,
        "callback_unsatisfied": callback_unsatisfied(state),
        "departments": catalogue.departments if catalogue else [],
        "may_audit": user.has_any("supervisor", "dispatcher"),
        "back": request.url.path,
        "photos": photo_columns(state),
        "steps": steps,
        "merged_into_no": merged_into_no,
    }
    return render(request, "case.html", context)
