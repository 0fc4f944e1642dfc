"""巡查 (三巡一查零报告, DESIGN §8.7): report a round, a day's rounds, and patrol coverage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue
from dispatch.handlers import Issuer, NoCatalogue
from dispatch.handlers.bodies import PatrolIn
from dispatch.handlers.patrols import new_report_id, report_patrol
from dispatch.queries.patrols import NotYourPatrols, coverage, day_rounds

router = APIRouter(tags=["patrols"])

REPORTERS = ("grid", "street")
Reporter = Annotated[User, Depends(roles(*REPORTERS))]
Reader = Annotated[User, Depends(roles("grid", "street", "supervisor", "dispatcher"))]
StatsReader = Annotated[User, Depends(roles("street", "supervisor", "dispatcher"))]
Code = Annotated[str | None, Query(min_length=1, max_length=64)]
Day = Annotated[str | None, Query(max_length=10)]
LONGEST_PERIOD = timedelta(days=366)


@router.post("/patrols", status_code=201)
def report(body: PatrolIn, container: ContainerDep, user: Reporter) -> JSONResponse:
    """巡查上报: a round of a grid, today; no findings is a zero report (零报告), each finding
    a case with channel ``patrol``. A grid worker reports for its grid, a street officer for
    its street's grids; the same round twice is 409 ``patrol_round_already_reported``."""
    issuer = Issuer(actor=user, role=str(user.role_for(*REPORTERS)))
    result = report_patrol(container.handling, new_report_id(), body.report(), issuer)
    for case in result.cases:
        container.after_command(case)
    answer = {
        "id": result.id,
        "grid": result.grid,
        "date": result.date.isoformat(),
        "round": result.round,
        "zero": result.zero,
        "cases": [{"id": c.case_id, "case_no": c.state.case_no} for c in result.cases],
    }
    return JSONResponse(answer, status_code=201)


@router.get("/patrols")
def patrols(
    container: ContainerDep,
    user: Reader,
    date_: Annotated[str | None, Query(alias="date", max_length=10)] = None,
    street: Code = None,
    grid: Code = None,
) -> dict[str, Any]:
    """One item per grid in scope and round of the day (today by default): ``reported``,
    ``zero``, ``findings`` (case numbers) and ``missing`` (past its time without a report)."""
    catalogue = _catalogue(container)
    now = container.clock()
    day = _day("date", date_) or now.astimezone(catalogue.zone).date()
    container.fresh("patrol_reports")
    container.fresh("case_list")
    with _scoped(), container.store.reading() as conn:
        items = day_rounds(conn, catalogue, user, day, now, street=street, grid=grid)
    return {"items": items, "total": len(items)}


@router.get("/stats/patrols")
def patrol_coverage(
    container: ContainerDep,
    user: StatsReader,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: Day = None,
    group_by: Literal["grid", "street"] = "grid",
) -> dict[str, Any]:
    """巡查覆盖率 per grid or street: reported rounds / due rounds in ``from``…``to`` (local
    dates, both included; the current month by default). See docs/kpis.md."""
    catalogue = _catalogue(container)
    now = container.clock()
    today = now.astimezone(catalogue.zone).date()
    first = _day("from", from_) or today.replace(day=1)
    last = _day("to", to) or today
    if last < first or last - first > LONGEST_PERIOD:
        raise Problem(
            422,
            "to must be on or after from, and the period at most a year",
            errors=[{"field": "to", "message": "not after from, or over a year after it"}],
        )
    container.fresh("patrol_reports")
    with _scoped(), container.store.reading() as conn:
        rows = coverage(conn, catalogue, user, first, last, now, group_by=group_by)
    return {"from": first.isoformat(), "to": last.isoformat(), "items": rows, "total": len(rows)}


def _catalogue(container: Container) -> Catalogue:
    active = container.catalogue_source()
    if active is None:
        raise NoCatalogue()
    return active[1]


def _day(field: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(
            422,
            f"{field} must be a date like 2026-11-30",
            errors=[{"field": field, "message": f"not a date: {value!r}"}],
        ) from None


class _scoped:
    """A scoped viewer asking for another grid or street: 403, said plainly."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: object, _tb: object) -> None:
        if isinstance(error, NotYourPatrols):
            raise Problem(403, str(error)) from None
