"""A case's timeline: its stages, who held it and for how long, in clock and working time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dispatch.api.deps import ContainerDep, CurrentUser
from dispatch.api.problems import Problem
from dispatch.catalogue import work_calendar
from dispatch.queries.cases import get_case
from dispatch.queries.scope import can_view_case, is_scoped
from dispatch.queries.timeline import case_timeline

router = APIRouter(tags=["cases"])


@router.get("/cases/{case_id}/timeline")
def timeline(case_id: str, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """Any role in scope: a liaison only for cases its department has (or had) a task in."""
    active = container.catalogue_source()
    calendar = work_calendar(active[1]) if active else None
    with container.store.reading() as conn:
        found = get_case(conn, case_id)
        if found is None and is_scoped(user):
            # The case list has not caught up (or there is no such case): scope cannot be
            # checked, so a scoped viewer gets the same answer as for an unknown case.
            raise Problem(404, f"no case with id {case_id!r}")
        if found is not None and not can_view_case(found, user):
            raise Problem(403, "this case is outside your department's or street's scope")
        result = case_timeline(conn, case_id, calendar, now=container.clock())
    if result is None:
        raise Problem(404, f"no case with id {case_id!r}")
    return result
