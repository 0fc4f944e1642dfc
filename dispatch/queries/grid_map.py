"""The numbers on the grid map (网格地图): one measure per grid, for the viewer's grids.

A measure is a function from the case-list tables to a number per grid code: one indexed SQL
query grouped by grid, never a fold. ``MEASURES`` is the table of them; another measure (missed
patrols, hotspots) is one more function and one more ``register_measure`` call, and the API, the
dashboard and the street page all pick it up.

A street officer sees the grids of its own street only; supervisors and dispatchers see all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.catalogue import Catalogue, Grid
from dispatch.projections.case_list import live_tables
from dispatch.projections.patrol_reports import live_tables as patrol_tables
from dispatch.queries.detected_hotspots import hotspots_now
from dispatch.queries.patrols import MISSED_LIST_DAYS
from dispatch.queries.scope import Viewer, is_scoped, roles_of
from dispatch.queries.worklist_items import HOLDS, Filters, Moment
from dispatch.queries.worklists import OPEN_CASE

CountsByGrid = dict[str, int]
MeasureQuery = Callable[[Connection, list[str], datetime], CountsByGrid]


@dataclass(frozen=True)
class Measure:
    key: str
    title: str  # Chinese first, as the worklists' titles: clients show it as it is
    counts: MeasureQuery
    # What a grid's link shows in the case list, besides the grid itself.
    case_filter: tuple[tuple[str, str], ...] = ()
    # The projections its query reads: a page catches them up before it asks.
    projections: tuple[str, ...] = ("case_list",)


class NotYourStreet(Exception):
    """A street officer asked for another street's grids (403)."""


MEASURES: dict[str, Measure] = {}


def register_measure(measure: Measure) -> Measure:
    MEASURES[measure.key] = measure
    return measure


@dataclass(frozen=True)
class GridValue:
    grid: str
    name: str
    street: str
    community: str | None
    value: int
    polygon: list[tuple[float, float]] | None

    @property
    def has_polygon(self) -> bool:
        return bool(self.polygon)

    def item(self) -> dict[str, Any]:
        """The JSON item of ``GET /stats/grids``."""
        return {
            "grid": self.grid,
            "name": self.name,
            "street": self.street,
            "community": self.community,
            "value": self.value,
            "has_polygon": self.has_polygon,
        }


def grids_in_view(catalogue: Catalogue, viewer: Viewer, street: str | None = None) -> list[Grid]:
    """The catalogue's grids the viewer may see, of ``street`` when one is asked for."""
    own = _own_street(viewer)
    if own is not None and street not in (None, own):
        raise NotYourStreet(f"a street officer sees its own street's grids ({own or 'none'})")
    wanted = own if own is not None else street
    return [grid for grid in catalogue.grids if wanted is None or grid.street == wanted]


def grid_values(
    conn: Connection,
    viewer: Viewer,
    catalogue: Catalogue,
    *,
    measure: str,
    now: datetime,
    street: str | None = None,
) -> list[GridValue]:
    """Every grid in view with its number (0 where nothing counts), in catalogue order."""
    grids = grids_in_view(catalogue, viewer, street)
    codes = [grid.code for grid in grids]
    counts = MEASURES[measure].counts(conn, codes, now) if codes else {}
    return [
        GridValue(
            grid=grid.code,
            name=grid.name,
            street=grid.street,
            community=grid.community,
            value=counts.get(grid.code, 0),
            polygon=list(grid.polygon) if grid.polygon else None,
        )
        for grid in grids
    ]


def _own_street(viewer: Viewer) -> str | None:
    """The street a street-only viewer is bound to ('' when none: it sees no grid)."""
    if is_scoped(viewer) and "street" in roles_of(viewer):
        return viewer.street or ""
    return None


def _grouped(conn: Connection, grid: Any, where: Iterable[Any], select_from: Any) -> CountsByGrid:
    query = sa.select(grid, sa.func.count()).select_from(select_from).where(*where).group_by(grid)
    return {str(code): int(count) for code, count in conn.execute(query)}


def open_cases(conn: Connection, grids: list[str], _now: datetime) -> CountsByGrid:
    """Cases not yet closed, answered or merged (a parked case is still an open problem)."""
    cases = live_tables()["case_list"]
    where = [cases.c.grid.in_(grids), cases.c.status.in_(OPEN_CASE)]
    return _grouped(conn, cases.c.grid, where, cases)


class _Centre:
    """Anyone unscoped: the overdue worklist's conditions without a department limit."""

    roles = ("supervisor",)
    department = None
    street = None


def overdue_tasks(conn: Connection, grids: list[str], now: datetime) -> CountsByGrid:
    """Tasks past the deadline of the step they are at: the 超期 worklist's own conditions."""
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    late = HOLDS["overdue"](cases, tasks, _Centre(), Moment(now, now.date()), Filters())
    joined = tasks.join(cases, cases.c.id == tasks.c.case_id)
    return _grouped(conn, cases.c.grid, [cases.c.grid.in_(grids), *late], joined)


def missed_patrols(conn: Connection, grids: list[str], now: datetime) -> CountsByGrid:
    """漏巡: rounds raised as missed (``PatrolReportMissed``) and still unreported, due in the
    last week — what the ``patrol_missed`` worklist holds, per grid."""
    rounds = patrol_tables()["patrol_reports"]
    where = [
        rounds.c.grid.in_(grids),
        rounds.c.missed.is_(True),
        rounds.c.reported.is_(False),
        rounds.c.due_at > now - timedelta(days=MISSED_LIST_DAYS),
        rounds.c.due_at <= now,
    ]
    return _grouped(conn, rounds.c.grid, where, rounds)


register_measure(Measure("open", "未办结工单", open_cases))
register_measure(Measure("overdue", "超期任务", overdue_tasks, (("overdue", "1"),)))
register_measure(
    Measure("missed_patrols", "近7日漏巡", missed_patrols, projections=("patrol_reports",))
)
register_measure(Measure("hotspots", "主动治理热点", hotspots_now, projections=("hotspots",)))
