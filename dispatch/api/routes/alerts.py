"""Overdue alerts (超期预警) for supervisors, dispatchers and a liaison's own department."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.api.routes.stats import parse_moment, zone_and_weights
from dispatch.auth.users import User
from dispatch.queries.alerts import OutOfScope, count_overdue_alerts, overdue_alerts
from dispatch.queries.tasks import MAX_PAGE_SIZE

router = APIRouter(tags=["alerts"])

Viewer = Annotated[User, Depends(roles("supervisor", "dispatcher", "liaison"))]


@router.get("/alerts/overdue")
def overdue(
    container: ContainerDep,
    user: Viewer,
    department: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    level: Literal["yellow", "red"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = MAX_PAGE_SIZE,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Open tasks near (yellow) or past (red) a deadline: red first, longest overdue first.
    ``as_of`` (a time, or a local date meaning its start) answers as the log stood then."""
    zone, _ = zone_and_weights(container)
    moment = parse_moment("as_of", as_of, zone) if as_of else None
    container.fresh("kpi")
    now = container.clock()
    try:
        with container.store.reading() as conn:
            items = overdue_alerts(
                conn, user, now=now, department=department, level=level, limit=limit, as_of=moment
            )
            total = count_overdue_alerts(
                conn, user, now=now, department=department, level=level, as_of=moment
            )
    except OutOfScope as error:
        raise Problem(403, f"{error}; leave out department or ask for your own") from None
    for item in items:
        item["deadline"] = item["deadline"].isoformat()
    return {"items": items, "total": total, "as_of": moment.isoformat() if moment else None}
