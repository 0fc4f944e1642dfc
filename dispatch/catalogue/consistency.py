"""Rules that relate one part of a catalogue to another, and advisories shown on load.

``problems`` are errors: the catalogue is refused. ``advisories`` are warnings: the catalogue
loads, and the admin is told what will behave in a way they may not expect.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from shapely.geometry import Polygon
from shapely.validation import explain_validity

from dispatch.catalogue.model import STREET_OFFICE, Catalogue, Rule
from dispatch.catalogue.workcalendar import chinese_calendar_years

Path = tuple[str | int, ...]
Finding = tuple[Path, str]


def is_pattern(text: str) -> bool:
    return any(char in text for char in "*?[")


def problems(data: Mapping[str, Any]) -> list[Finding]:
    """Cross-reference problems in raw catalogue data.

    This reads the data as parsed, not the validated model, so that an unknown department is
    reported together with a bad duration elsewhere: the admin fixes everything in one go.
    Items too malformed to read are skipped here; the shape pass reports them.
    """
    view = _View(data)
    found: list[Finding] = []
    for section in ("streets", "departments", "grids", "categories", "routing"):
        found += _duplicates(view, section, "id" if section == "routing" else "code")
    for index, street in view.items("streets"):
        found += _department_ref(view, ("streets", index, "office"), street.get("office"))
    found += _grids(view)
    for index, category in view.items("categories"):
        found += _policy_ref(view, ("categories", index, "sla"), category.get("sla"))
    found += _rules(view)
    urgency_sla = data.get("urgency_sla")
    if isinstance(urgency_sla, Mapping):
        for urgency, policy in urgency_sla.items():
            found += _policy_ref(view, ("urgency_sla", str(urgency)), policy)
    return found


class _View:
    """Tolerant access to raw sections: lists of mappings, and the codes they define."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.departments = self.codes("departments")
        self.streets = self.codes("streets")
        self.grids = self.codes("grids")
        sla = data.get("sla")
        self.policies = [str(name) for name in sla] if isinstance(sla, Mapping) else []

    def items(self, section: str) -> list[tuple[int, Mapping[str, Any]]]:
        listed = self.data.get(section)
        if not isinstance(listed, list):
            return []
        return [(i, item) for i, item in enumerate(listed) if isinstance(item, Mapping)]

    def codes(self, section: str, key: str = "code") -> list[str]:
        return [str(item[key]) for _, item in self.items(section) if key in item]


def _duplicates(view: _View, section: str, key: str) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, item in view.items(section):
        code = item.get(key)
        if not isinstance(code, str):
            continue
        if code in first:
            yield (section, index, key), f"duplicate {key} {code!r} (also {section}.{first[code]})"
        else:
            first[code] = index


def _department_ref(view: _View, path: Path, code: object) -> Iterator[Finding]:
    if isinstance(code, str) and code != STREET_OFFICE and code not in view.departments:
        known = ", ".join(view.departments) or "none defined"
        yield path, f"unknown department {code!r}; use one of: {known}, or {STREET_OFFICE!r}"


def _policy_ref(view: _View, path: Path, name: object) -> Iterator[Finding]:
    if isinstance(name, str) and name not in view.policies:
        known = ", ".join(view.policies) or "none defined"
        yield path, f"unknown SLA policy {name!r} (policies: {known})"


def _grids(view: _View) -> Iterator[Finding]:
    for index, grid in view.items("grids"):
        street = grid.get("street")
        if isinstance(street, str) and street not in view.streets:
            known = ", ".join(view.streets) or "none defined"
            yield ("grids", index, "street"), f"unknown street {street!r} (streets: {known})"
        reason = _invalid_polygon(grid.get("polygon"))
        if reason:
            yield ("grids", index, "polygon"), f"the polygon is not valid: {reason}"


def _invalid_polygon(ring: object) -> str | None:
    """Why a closed ring of 4+ points is not a simple polygon (e.g. it crosses itself)."""
    if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
        return None  # the shape pass explains rings that are short or open
    try:
        shape = Polygon(ring)
    except (TypeError, ValueError):
        return None
    return None if shape.is_valid else explain_validity(shape)


def _rules(view: _View) -> Iterator[Finding]:
    for index, rule in view.items("routing"):
        here: Path = ("routing", index)
        lead = rule.get("lead")
        assist = rule.get("assist")
        if not isinstance(assist, list):
            assist = []
        yield from _department_ref(view, (*here, "lead"), lead)
        for i, code in enumerate(assist):
            yield from _department_ref(view, (*here, "assist", i), code)
        if isinstance(lead, str) and lead in assist:
            yield (*here, "assist"), f"{lead!r} is the lead; it cannot also assist"
        for key, known in (("street", view.streets), ("grid", view.grids)):
            value = rule.get(key)
            if isinstance(value, str) and not is_pattern(value) and value not in known:
                yield (*here, key), f"unknown {key} {value!r}"


def advisories(catalogue: Catalogue, *, today: date) -> list[str]:
    """Warnings for an otherwise valid catalogue, as of ``today`` in its timezone."""
    notes = list(_calendar_gaps(catalogue, range(today.year, today.year + 2)))
    notes += _dead_rules(catalogue.routing, [c.code for c in catalogue.categories])
    return notes


def _calendar_gaps(catalogue: Catalogue, years: Iterable[int]) -> Iterator[str]:
    known = chinese_calendar_years()
    overridden = {
        d.year for d in (*catalogue.calendar.extra_holidays, *catalogue.calendar.extra_workdays)
    }
    for year in years:
        if year not in known and year not in overridden:
            yield (
                f"chinese-calendar does not know the holidays of {year}, and "
                "calendar.extra_holidays / extra_workdays give none for it: deadlines reaching "
                f"into {year} assume "
                "Monday–Friday (calendar_assumed). Add that year's State Council holiday notice "
                "to the catalogue, or upgrade chinese-calendar."
            )


def _dead_rules(rules: list[Rule], categories: list[str]) -> Iterator[str]:
    for rule in rules:
        if not any(fnmatchcase(code, rule.category) for code in categories):
            yield f"routing rule {rule.id!r}: category {rule.category!r} matches no category"
    unrouted = [c for c in categories if not any(fnmatchcase(c, r.category) for r in rules)]
    if unrouted:
        listed = ", ".join(unrouted)
        yield f"no routing rule matches categories {listed}: a dispatcher routes them"
