"""The grid map's numbers (网格地图): one measure per grid, for the console and other clients."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.queries.grid_map import MEASURES, NotYourStreet, grid_values

router = APIRouter(tags=["stats"])

Reader = Annotated[User, Depends(roles("supervisor", "dispatcher", "street"))]


@router.get("/stats/grids")
def grid_stats(
    container: ContainerDep,
    user: Reader,
    measure: Annotated[str, Query(max_length=32)] = "open",
    street: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict[str, Any]:
    """Every grid of the active catalogue in the caller's view with one number: ``open``
    cases or ``overdue`` tasks. A street officer gets its own street's grids (another
    street is 403); ``has_polygon`` says whether the grid can be drawn on the map."""
    if measure not in MEASURES:
        known = ", ".join(MEASURES)
        raise Problem(
            422,
            f"measure must be one of: {known}",
            errors=[{"field": "measure", "message": f"unknown measure {measure!r}"}],
        )
    active = container.catalogue_source()
    if active is None:
        return {"items": [], "total": 0, "measure": measure, "title": MEASURES[measure].title}
    container.fresh(MEASURES[measure].projection)
    try:
        with container.store.reading() as conn:
            values = grid_values(
                conn, user, active[1], measure=measure, now=container.clock(), street=street
            )
    except NotYourStreet as error:
        raise Problem(403, str(error)) from None
    return {
        "items": [value.item() for value in values],
        "total": len(values),
        "measure": measure,
        "title": MEASURES[measure].title,
    }
