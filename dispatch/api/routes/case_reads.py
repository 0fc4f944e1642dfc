"""Reading cases and tasks — always from the projections, scoped to the viewer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from dispatch.api.deps import ContainerDep, CurrentUser
from dispatch.api.deps import require_roles as roles
from dispatch.api.paging import Page, PageSize, SearchText
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.queries.cases import capped_total, get_case, list_cases
from dispatch.queries.masking import liaison_sees_phone, present_case, sees_phone_numbers
from dispatch.queries.phone_views import record_phone_view
from dispatch.queries.scope import can_view_case
from dispatch.queries.tasks import list_tasks

router = APIRouter(tags=["cases"])

Code = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/cases")
def cases(
    container: ContainerDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(max_length=200)] = None,
    nature: Annotated[
        str | None,
        Query(
            pattern=r"^(consult|help|complaint|report|suggestion)"
            r"(,(consult|help|complaint|report|suggestion))*$",
            description="诉求性质, one or several, comma-separated",
        ),
    ] = None,
    category: Code = None,
    department: Code = None,
    grid: Code = None,
    street: Code = None,
    overdue: bool | None = None,
    q: SearchText = None,
    near: Annotated[str | None, Query(pattern=r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$")] = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> dict[str, object]:
    """Cases the caller may see (a liaison: its department's; a street officer: its street's)."""
    point = None
    if near is not None:
        lat, lon = (float(part) for part in near.split(","))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Problem(422, "near must be lat,lon in degrees", errors=[{"field": "near"}])
        point = (lat, lon)
    with container.store.reading() as conn:
        items, total = list_cases(
            conn,
            user,
            status=status,
            nature=nature,
            category=category,
            department=department,
            grid=grid,
            street=street,
            overdue=overdue,
            q=q,
            near=point,
            page=page,
            page_size=page_size,
        )
    shown, capped = capped_total(total, q)
    return {
        "items": items,
        "total": shown,
        "total_capped": capped,  # a search matched more than ``total``: not counted further
        "page": page,
        "page_size": page_size,
    }


@router.get("/cases/{case_id}")
def case(case_id: str, container: ContainerDep, user: CurrentUser) -> JSONResponse:
    """The case with its tasks, deadlines and warnings; the phone is masked for most roles."""
    with container.store.reading() as conn:
        found = get_case(conn, case_id)
    if found is None:
        raise Problem(404, f"no case with id {case_id!r}")
    if not can_view_case(found, user):
        raise Problem(403, "this case is outside your department's or street's scope")
    shown = present_case(found, user)
    if not sees_phone_numbers(user) and liaison_sees_phone(found, user):
        record_phone_view(
            container.engine, case_id, user, route="GET /api/v1/cases/{id}", now=container.clock()
        )
    return JSONResponse(shown, headers={"ETag": f'"{found["version"]}"'})


@router.get("/tasks", tags=["tasks"])
def tasks(
    container: ContainerDep,
    user: Annotated[User, Depends(roles("liaison", "dispatcher", "supervisor"))],
    department: Code = None,
    state: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool | None = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> dict[str, object]:
    """The inbox: a liaison sees its own department's tasks only, whatever it asks for."""
    with container.store.reading() as conn:
        items, total = list_tasks(
            conn,
            user,
            department=department,
            state=state,
            overdue=overdue,
            page=page,
            page_size=page_size,
        )
    return {"items": items, "total": total, "page": page, "page_size": page_size}
