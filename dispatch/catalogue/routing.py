"""Where a case is (grid, street) and who handles it (first matching routing rule).

Rules are tried in catalogue order and the first that matches wins. ``category``, ``street``
and ``grid`` in a rule are ``fnmatch`` patterns (``*``, ``?``), case-sensitive. A rule that
names ``@street`` (as lead or assist) needs a street: for a case without one it does not match
and the next rule is tried; if none matches, the case is unroutable and waits for a dispatcher.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict
from shapely import STRtree
from shapely.geometry import Point, Polygon

from dispatch.catalogue.model import STREET_OFFICE, Catalogue, Rule


class CandidateRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    matched: bool
    reason: str


class RoutingDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str | None
    lead: str | None
    assist: list[str]
    candidates: list[CandidateRule]
    reason: str

    @property
    def routable(self) -> bool:
        return self.lead is not None


class Placement(BaseModel):
    model_config = ConfigDict(frozen=True)

    grid: str | None
    street: str | None
    how: str


def place(catalogue: Catalogue, location: Mapping[str, Any] | Any) -> Placement:
    """Grid and street of a location, with how they were found."""
    grid_code, lat, lon = (_get(location, key) for key in ("grid", "lat", "lon"))
    street_code = _get(location, "street")
    notes = []
    if grid_code:
        grid = catalogue.grid(grid_code)
        if grid is not None:
            return Placement(grid=grid.code, street=grid.street, how=f"grid code {grid.code}")
        notes.append(f"grid code {grid_code!r} is not in the catalogue")
    if lat is not None and lon is not None:
        found = _grid_at(catalogue, float(lon), float(lat))
        if found is not None:
            return Placement(
                grid=found,
                street=catalogue.grid(found).street,  # type: ignore[union-attr]
                how=f"point ({lon}, {lat}) lies in grid {found}",
            )
        notes.append(f"point ({lon}, {lat}) lies in no grid polygon")
    elif not grid_code:
        notes.append("no grid code and no coordinates")
    if street_code and catalogue.street(street_code) is not None:
        notes.append(f"street {street_code} as given")
        return Placement(grid=None, street=street_code, how="; ".join(notes))
    return Placement(grid=None, street=None, how="; ".join(notes))


def locate(
    catalogue: Catalogue, location: Mapping[str, Any] | Any
) -> tuple[str | None, str | None]:
    """``(grid, street)`` for a location: explicit grid code first, else point-in-polygon."""
    found = place(catalogue, location)
    return found.grid, found.street


def route(
    catalogue: Catalogue, category: str, grid: str | None, street: str | None
) -> RoutingDecision:
    """The first rule matching the case decides the lead and assisting departments."""
    if catalogue.category(category) is None:
        return _unroutable([], f"category {category!r} is not in catalogue {catalogue.version!r}")
    candidates: list[CandidateRule] = []
    office = _office_of(catalogue, street)
    for rule in catalogue.routing:
        matched, why = _match(rule, category, grid, street, office)
        candidates.append(CandidateRule(id=rule.id, matched=matched, reason=why))
        if not matched:
            continue
        lead = office if rule.lead == STREET_OFFICE else rule.lead
        named = [office if code == STREET_OFFICE else code for code in rule.assist]
        assist = list(dict.fromkeys(code for code in named if code and code != lead))
        return RoutingDecision(
            rule_id=rule.id,
            lead=lead,
            assist=assist,
            candidates=candidates,
            reason=f"rule {rule.id}: {why}; lead {lead}",
        )
    return _unroutable(candidates, "no routing rule matches; a dispatcher must route the case")


def explain(
    catalogue: Catalogue, *, category: str, location: Mapping[str, Any] | Any
) -> dict[str, Any]:
    """Everything the dispatcher needs to see why a case goes where it goes, as JSON data."""
    placed = place(catalogue, location)
    decision = route(catalogue, category, placed.grid, placed.street)
    known = catalogue.category(category)
    return {
        "catalogue_version": catalogue.version,
        "category": category,
        "category_name": known.name if known else None,
        "sla_policy": known.sla if known else None,
        "grid": placed.grid,
        "street": placed.street,
        "located_by": placed.how,
        "routable": decision.routable,
        **decision.model_dump(mode="json"),
    }


def _match(
    rule: Rule, category: str, grid: str | None, street: str | None, office: str | None
) -> tuple[bool, str]:
    if not fnmatchcase(category, rule.category):
        return False, f"category {category} does not match {rule.category!r}"
    why = [f"category {category} matches {rule.category!r}"]
    if rule.street is not None:
        if street is None or not fnmatchcase(street, rule.street):
            return False, f"street {street or '(none)'} does not match {rule.street!r}"
        why.append(f"street {street} matches {rule.street!r}")
    if rule.grid is not None:
        if grid is None or not fnmatchcase(grid, rule.grid):
            return False, f"grid {grid or '(none)'} does not match {rule.grid!r}"
        why.append(f"grid {grid} matches {rule.grid!r}")
    if office is None and STREET_OFFICE in (rule.lead, *rule.assist):
        return False, f"the rule sends to {STREET_OFFICE} but the case has no known street"
    return True, ", ".join(why)


def _office_of(catalogue: Catalogue, street: str | None) -> str | None:
    found = catalogue.street(street) if street else None
    return found.office if found else None


def _unroutable(candidates: list[CandidateRule], reason: str) -> RoutingDecision:
    return RoutingDecision(rule_id=None, lead=None, assist=[], candidates=candidates, reason=reason)


def _grid_at(catalogue: Catalogue, lon: float, lat: float) -> str | None:
    """The first grid (catalogue order) whose polygon covers the point, boundary included."""
    codes, tree = catalogue.cached("grid_index", lambda: _grid_index(catalogue))
    if tree is None:
        return None
    hits = tree.query(Point(lon, lat), predicate="covered_by")
    return codes[int(min(hits))] if len(hits) else None


def _grid_index(catalogue: Catalogue) -> tuple[list[str], STRtree | None]:
    shaped = [(grid.code, Polygon(grid.polygon)) for grid in catalogue.grids if grid.polygon]
    if not shaped:
        return [], None
    return [code for code, _ in shaped], STRtree([shape for _, shape in shaped])


def _get(location: Mapping[str, Any] | Any, key: str) -> Any:
    if isinstance(location, Mapping):
        return location.get(key)
    return getattr(location, key, None)
