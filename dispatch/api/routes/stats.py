"""KPIs (三率) and the monthly ranking (红黑榜), for supervisors and dispatchers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.domain.kpi_formulas import KpiWeights
from dispatch.queries import kpi_settings
from dispatch.queries.hotspots import hotspots
from dispatch.queries.kpis import kpi_rows, ranking

router = APIRouter(tags=["stats"])

Reader = Annotated[User, Depends(roles("supervisor", "dispatcher"))]
Moment = Annotated[str | None, Query(max_length=40)]
GroupBy = Literal["department", "nature", "category", "grid", "street", "day"]
# 主动治理: the centre, and a street for its own grids.
HotspotReader = Annotated[User, Depends(roles("supervisor", "dispatcher", "street"))]
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")]


def zone_and_weights(container: Container) -> tuple[ZoneInfo, KpiWeights]:
    """The active catalogue's timezone and KPI weights (settings and defaults before one)."""
    return kpi_settings.zone_and_weights(container.catalogue_source(), container.settings.timezone)


def parse_moment(field: str, value: str, zone: ZoneInfo, *, day_end: bool = False) -> datetime:
    """``2026-11-30`` is a local day (its end, for ``to``); a time without offset is local."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if day_end else 0)
            return datetime(day.year, day.month, day.day, tzinfo=zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Problem(
            422,
            f"{field} must be a date (2026-11-30) or a time (2026-11-30T18:00:00+08:00)",
            errors=[{"field": field, "message": f"not a date or time: {value!r}"}],
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@router.get("/stats/kpis")
def kpis(
    container: ContainerDep,
    _user: Reader,
    group_by: GroupBy = "department",
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Moment = None,
    as_of: Moment = None,
) -> dict[str, Any]:
    """KPI rows of the period: ``from`` and ``to`` are local dates (both included) or times.

    Without a period, the current month up to today. ``as_of`` answers with the events recorded
    before that time, so a figure published last month can be reproduced.
    """
    zone, weights = zone_and_weights(container)
    now = container.clock()
    today = now.astimezone(zone)
    start = (
        parse_moment("from", from_, zone)
        if from_
        else datetime(today.year, today.month, 1, tzinfo=zone)
    )
    # Whole local days (today included) let the daily rollup answer; see ``kpi_rows``.
    tomorrow = datetime(today.year, today.month, today.day, tzinfo=zone) + timedelta(days=1)
    end = parse_moment("to", to, zone, day_end=True) if to else tomorrow
    moment = parse_moment("as_of", as_of, zone) if as_of else None
    if end <= start:
        raise Problem(
            422, "to must be after from", errors=[{"field": "to", "message": "before from"}]
        )
    container.fresh("kpi")
    with container.store.reading() as conn:
        rows = kpi_rows(
            conn, group_by=group_by, start=start, end=end, now=now, as_of=moment, weights=weights
        )
    return {
        "items": rows,
        "total": len(rows),
        "group_by": group_by,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": moment.isoformat() if moment else None,
        "weights": {
            "response": weights.response,
            "solve": weights.solve,
            "satisfaction": weights.satisfaction,
        },
    }


@router.get("/stats/ranking")
def department_ranking(
    container: ContainerDep,
    _user: Reader,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    as_of: Moment = None,
) -> dict[str, Any]:
    """红黑榜: the month's departments by score, with the top and bottom five. ``as_of``
    ranks them on the events recorded before that time (the exact path, as for kpis)."""
    zone, weights = zone_and_weights(container)
    now = container.clock()
    month = month or now.astimezone(zone).strftime("%Y-%m")
    moment = parse_moment("as_of", as_of, zone) if as_of else None
    container.fresh("kpi")
    with container.store.reading() as conn:
        board = ranking(conn, month, now, weights=weights, timezone=str(zone), as_of=moment)
    return {**board, "as_of": moment.isoformat() if moment else None}


@router.get("/stats/hotspots")
def hotspot_list(
    container: ContainerDep,
    user: HotspotReader,
    from_: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    to: Day = None,
    min_cases: Annotated[int | None, Query(ge=2, le=10_000)] = None,
    group_by: Literal["grid", "community"] = "grid",
    street: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict[str, Any]:
    """主动治理: categories complained of at least ``min_cases`` times in one grid (or one
    community) between the local days ``from`` and ``to`` (both included). Without them, the
    catalogue's window (``hotspots.window_days``, 7) up to today; ``min_cases`` defaults to the
    catalogue's threshold (5). A street officer sees its own street's grids only."""
    active = container.catalogue_source()
    catalogue = active[1] if active is not None else None
    setting = catalogue.hotspots if catalogue is not None else None
    window, threshold = (setting.window_days, setting.min_cases) if setting else (7, 5)
    zone = catalogue.zone if catalogue is not None else ZoneInfo(container.settings.timezone)
    today = container.clock().astimezone(zone).date()
    last = _day("to", to) if to else today
    first = _day("from", from_) if from_ else last - timedelta(days=window - 1)
    if last < first:
        raise Problem(
            422, "to must not be before from", errors=[{"field": "to", "message": "before from"}]
        )
    communities = {g.code: g.community for g in catalogue.grids if g.community} if catalogue else {}
    if group_by == "community" and not communities:
        raise Problem(
            422,
            "the catalogue names no community for any grid: group by grid",
            errors=[{"field": "group_by", "message": "no grid has a community"}],
        )
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    after = last + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=zone)
    container.fresh("case_list")
    with container.store.reading() as conn:
        items = hotspots(
            conn,
            user,
            start=start,
            end=end,
            min_cases=min_cases or threshold,
            group_by=group_by,
            communities=communities,
            street=street,
        )
    return {
        "items": items,
        "total": len(items),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "min_cases": min_cases or threshold,
        "group_by": group_by,
    }


def _day(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(
            422,
            f"{field} must be a date, e.g. 2026-11-30",
            errors=[{"field": field, "message": f"not a date: {value!r}"}],
        ) from None
