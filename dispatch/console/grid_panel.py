"""The grid map card shared by the dashboard and the street page: the chosen measure's numbers
(``dispatch.queries.grid_map``, the same query as ``GET /api/v1/stats/grids``) laid out as SVG
(``grid_svg``), with a tab per measure and each grid a link to its cases."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request

from dispatch.auth.users import User
from dispatch.console.grid_svg import GridMap, grid_map
from dispatch.console.i18n import N_
from dispatch.console.web import PREFIX, catalogue_of, container_of
from dispatch.queries.grid_map import MEASURES, GridValue, grid_values

# The console's words for the measures it knows; a measure added elsewhere shows its title.
MEASURE_LABELS = {
    "open": N_("Open cases"),
    "overdue": N_("Overdue tasks"),
    "missed_patrols": N_("Missed patrols, last 7 days"),
    "hotspots": N_("Hotspots"),
}


@dataclass(frozen=True)
class MeasureTab:
    key: str
    label: str  # a msgid, or the measure's own (Chinese) title
    href: str
    chosen: bool


@dataclass(frozen=True)
class GridPanel:
    measure: str
    label: str
    tabs: list[MeasureTab]
    map: GridMap


def grid_panel(
    request: Request, user: User, measure: str, *, street: str | None = None
) -> GridPanel | None:
    """The card's content, or None when the catalogue has no grid in the user's view."""
    catalogue = catalogue_of(request)
    if catalogue is None:
        return None
    chosen = measure if measure in MEASURES else "open"
    container = container_of(request)
    for projection in MEASURES[chosen].projections:
        container.fresh(projection)
    with container.store.reading() as conn:
        values = grid_values(
            conn, user, catalogue, measure=chosen, now=container.clock(), street=street
        )
    if not values:
        return None
    tabs = [
        MeasureTab(
            key,
            _label(key),
            str(request.url.include_query_params(measure=key).replace(fragment="grid-map-card")),
            key == chosen,
        )
        for key in MEASURES
    ]
    extra = MEASURES[chosen].case_filter

    def cases_of(value: GridValue) -> str:
        return f"{PREFIX}/cases?{urlencode((('grid', value.grid), *extra))}"

    return GridPanel(chosen, _label(chosen), tabs, grid_map(values, cases_of))


def _label(key: str) -> str:
    return MEASURE_LABELS.get(key, MEASURES[key].title)
