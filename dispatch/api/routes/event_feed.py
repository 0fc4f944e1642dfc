"""Audit reads of the log itself: one case's stream, and the global feed."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User

router = APIRouter(tags=["events"])


@router.get("/cases/{case_id}/events")
def case_events(
    case_id: str,
    container: ContainerDep,
    _user: Annotated[User, Depends(roles("supervisor", "dispatcher"))],
) -> dict[str, object]:
    """The case's stream as stored: position, version, type, data, meta, time and hash."""
    recorded = container.store.read_stream(case_id)
    if not recorded:
        raise Problem(404, f"no case with id {case_id!r}")
    items = [event.as_json() for event in recorded]
    return {"items": items, "total": len(items)}


@router.get("/events")
def global_feed(
    container: ContainerDep,
    _user: Annotated[User, Depends(roles("supervisor", "admin"))],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, object]:
    """Every event after ``after`` in position order; page with the last position seen."""
    recorded = container.store.read_all(after=after, limit=limit)
    items = [event.as_json() for event in recorded]
    return {
        "items": items,
        "total": len(items),
        "next_after": items[-1]["position"] if items else after,
    }
