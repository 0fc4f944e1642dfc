"""Deliveries (送达) for a dispatcher's desk: every delivery with its ``kind`` and ``type``, and
the dead letters (死信) — deliveries and jobs that gave up — to see and replay."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.paging import Page, PageSize
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.delivery.listing import list_deliveries
from dispatch.delivery.notices import DELIVERY_KINDS
from dispatch.delivery.replay import ReplayRefused
from dispatch.delivery.replay import replay as replay_dead_letter
from dispatch.delivery.state import list_dead_letters

router = APIRouter(prefix="/deliveries", tags=["deliveries"])
Dispatcher = Annotated[User, Depends(roles("dispatcher"))]
# dead_letters.id is a 32-bit integer: PostgreSQL refuses a larger one with a 500 otherwise.
LetterId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str | None, Query(min_length=1, max_length=64)]
Kind = Literal[DELIVERY_KINDS]  # type: ignore[valid-type]


@router.get("")
def all_deliveries(
    container: ContainerDep,
    _user: Dispatcher,
    case_id: Code = None,
    department: Code = None,
    kind: Kind | None = None,
    state: Literal["pending", "delivered", "failed"] | None = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> dict[str, object]:
    """What was sent to which department (``kind``), how (``type``) and how it went, newest
    first: a dispatch, an urge, a ruling, a cancellation, an SLA warning."""
    with container.store.reading() as conn:
        items, total = list_deliveries(
            conn,
            case_id=case_id,
            department=department,
            kind=kind,
            state=state,
            limit=page_size,
            offset=(page - 1) * page_size,
        )
    return {"items": items, "total": total}


@router.get("/dead-letters")
def dead_letters(
    container: ContainerDep,
    _user: Dispatcher,
    state: Literal["open", "replayed", "all"] = "open",
    page: Page = 1,
    page_size: PageSize = 50,
) -> dict[str, object]:
    """Jobs that gave up, newest first: ``open`` ones wait for a replay."""
    with container.store.reading() as conn:
        items, total = list_dead_letters(
            conn, state=state, limit=page_size, offset=(page - 1) * page_size
        )
    return {"items": items, "total": total}


@router.post("/dead-letters/{letter_id}/replay", status_code=202)
def replay(letter_id: LetterId, container: ContainerDep, user: Dispatcher) -> JSONResponse:
    """Run the job again: the delivery starts over with a fresh count of attempts."""
    try:
        body = replay_dead_letter(
            container.store,
            letter_id,
            by=user.username,
            clock=container.clock,
            redis_url=container.redis_url,
        )
    except ReplayRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        raise Problem(refused.status, str(refused), headers=headers) from None
    return JSONResponse(body, status_code=202)
