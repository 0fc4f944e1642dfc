"""相似工单: likely duplicates and the caller's earlier cases, for the intake screen (§8.2).

Registered before ``case_reads`` so that ``/cases/similar`` is never taken for a case id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.paging import SearchText
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.queries.similar import similar_cases

router = APIRouter(tags=["cases"])

Hotline = Annotated[User, Depends(roles("operator", "dispatcher"))]
Code = Annotated[str | None, Query(min_length=1, max_length=64)]
Latitude = Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)]
Phone = Annotated[str | None, Query(min_length=5, max_length=40, pattern=r"^[\d\s+\-().]+$")]


@router.get("/cases/similar")
def similar(
    container: ContainerDep,
    user: Hotline,
    category: Code = None,
    grid: Code = None,
    lat: Latitude = None,
    lon: Longitude = None,
    q: SearchText = None,
    phone: Phone = None,
) -> dict[str, Any]:
    """Open cases of this category in the same grid or within a few hundred metres, received
    lately (``reason: same_place``), and the caller's earlier cases by phone
    (``reason: same_caller``). Needs a place with a category, or a phone; ``q`` narrows both."""
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise Problem(
            422,
            "lat and lon go together: give both, or neither",
            errors=[{"field": missing, "message": "needed with the other coordinate"}],
        )
    point = (lat, lon) if lat is not None and lon is not None else None
    place = grid is not None or point is not None
    if place and category is None:
        raise Problem(
            422,
            "a place is compared within one category: add category",
            errors=[{"field": "category", "message": "needed with grid or lat/lon"}],
        )
    if not (place or phone):
        raise Problem(
            422,
            "say what to compare: category with grid or lat and lon (same place), "
            "or phone (same caller)",
            errors=[{"field": "category", "message": "no criteria"}],
        )
    with container.store.reading() as conn:
        items = similar_cases(
            conn,
            user,
            now=container.clock(),
            key=container.settings.phone_index_key(),
            category=category,
            grid=grid,
            point=point,
            q=q,
            phone=phone,
        )
    return {"items": items}
