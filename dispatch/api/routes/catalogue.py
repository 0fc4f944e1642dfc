"""``/catalogue``: the active catalogue, its versions, loading a new one, and routing explained."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from dispatch.api.deps import AdminUser, ContainerDep, CurrentUser, require_roles
from dispatch.api.problems import Problem
from dispatch.auth.admin_log import catalogue_logged
from dispatch.auth.roles import Role
from dispatch.auth.users import User
from dispatch.catalogue import Catalogue, CatalogueError, explain
from dispatch.catalogue.versions import active_catalogue, list_versions, load_catalogue

router = APIRouter(prefix="/catalogue", tags=["catalogue"])

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
JSON_TYPES = ("application/json",)
MAX_BODY = 5 * 1024 * 1024
SECRET_MASK = "********"

RouteReader = Annotated[User, Depends(require_roles(Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN))]


class CatalogueOut(BaseModel):
    number: int
    version: str
    catalogue: dict[str, Any]


class VersionOut(BaseModel):
    number: int
    version: str
    loaded_at: str
    loaded_by: str
    warnings: list[str]
    active: bool


class VersionPage(BaseModel):
    items: list[VersionOut]
    total: int


class Loaded(BaseModel):
    version: str
    number: int
    warnings: list[str]


def _active(container: ContainerDep) -> tuple[int, Catalogue]:
    found = active_catalogue(container.engine)
    if found is None:
        raise Problem(
            404,
            "no catalogue is loaded yet; an admin loads one with PUT /api/v1/catalogue "
            "or `dispatch catalogue load FILE`",
        )
    return found


ActiveCatalogue = Annotated[tuple[int, Catalogue], Depends(_active)]


@router.get("", response_model=CatalogueOut)
def current(user: CurrentUser, active: ActiveCatalogue) -> CatalogueOut:
    """The active catalogue. Webhook secrets are never shown back; where a department's
    webhook posts (a URL inside its network) only admins see."""
    number, catalogue = active
    body = catalogue.model_dump(mode="json")
    admin = user.has_any(Role.ADMIN)
    for department in body["departments"]:
        delivery = department["delivery"]
        if not admin:
            department["delivery"] = {"type": delivery["type"]}
        else:
            if delivery.get("secret"):
                delivery["secret"] = SECRET_MASK
            # A chat robot's key (企业微信 ``key``, 钉钉 ``access_token``) is its URL's query.
            url = delivery.get("url")
            if delivery["type"] in ("wecom", "dingtalk") and url and "?" in url:
                delivery["url"] = f"{url.split('?', 1)[0]}?{SECRET_MASK}"
    return CatalogueOut(number=number, version=catalogue.version, catalogue=body)


@router.get("/versions", response_model=VersionPage)
def versions(_user: CurrentUser, container: ContainerDep) -> VersionPage:
    rows = list_versions(container.engine)
    items = [
        VersionOut(
            number=row.number,
            version=row.label,
            loaded_at=row.loaded_at.isoformat(),
            loaded_by=row.loaded_by,
            warnings=row.warnings,
            active=index == 0,
        )
        for index, row in enumerate(rows)
    ]
    return VersionPage(items=items, total=len(items))


@router.put(
    "",
    response_model=Loaded,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "a catalogue (DESIGN.md §3) as JSON, or as YAML with a YAML type",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def load(request: Request, admin: AdminUser, container: ContainerDep) -> Loaded:
    """Validate and activate a new catalogue version; an invalid one changes nothing."""
    text = await _body_text(request)
    try:
        number, catalogue, warnings = await run_in_threadpool(
            load_catalogue,
            container.engine,
            text,
            loaded_by=admin.username,
            now=container.clock(),
            recorded=catalogue_logged(admin.username, container.clock()),
        )
    except CatalogueError as error:
        fields = ", ".join(dict.fromkeys(problem.field for problem in error.problems))
        raise Problem(
            422,
            f"the catalogue was not loaded; the active version is unchanged. Fix: {fields}",
            title="Invalid catalogue",
            errors=[problem.as_dict() for problem in error.problems],
        ) from None
    return Loaded(version=catalogue.version, number=number, warnings=warnings)


@router.get("/route")
def route_explained(
    _user: RouteReader,
    active: ActiveCatalogue,
    category: Annotated[str, Query(min_length=1, max_length=64)],
    grid: Annotated[str | None, Query(max_length=64)] = None,
    street: Annotated[str | None, Query(max_length=64)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
) -> dict[str, Any]:
    """Where a case with this category and location would go, and why (first match wins)."""
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise Problem(
            422,
            f"give both lat and lon, or neither: {missing} is missing",
            title="Invalid request",
            errors=[{"field": missing, "message": "required together with the other coordinate"}],
        )
    number, catalogue = active
    location = {"grid": grid, "street": street, "lat": lat, "lon": lon}
    return {"catalogue_number": number, **explain(catalogue, category=category, location=location)}


async def _body_text(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in YAML_TYPES + JSON_TYPES:
        raise Problem(
            415,
            f"send the catalogue as application/json or application/yaml, not {kind or 'nothing'}",
        )
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Problem(413, f"a catalogue may be at most {MAX_BODY // (1024 * 1024)} MB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(
            422,
            "the catalogue is not UTF-8 text",
            title="Invalid catalogue",
            errors=[{"field": "(body)", "message": "not UTF-8 text", "line": None}],
        ) from None
