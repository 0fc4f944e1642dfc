"""Grid lookup by code or polygon, first-match routing with wildcards, and its explanation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dispatch.catalogue import Catalogue, explain, locate, parse_catalogue, route

SAMPLE = Path(__file__).parents[2] / "dispatch" / "catalogue" / "samples" / "sample.yaml"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return parse_catalogue(SAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ({"lon": 108.957, "lat": 34.27}, ("XYL-02", "XYL")),
        ({"lon": 108.9855, "lat": 34.273}, ("CLZ-03", "CLZ")),  # the pentagon's bulge
        ({"lon": 108.955, "lat": 34.27}, ("XYL-01", "XYL")),  # shared edge: first grid listed
        ({"lon": 108.95, "lat": 34.265}, ("XYL-01", "XYL")),  # a corner counts as inside
        ({"lon": 108.90, "lat": 34.27}, (None, None)),
        ({"grid": "CLZ-02", "lon": 108.957, "lat": 34.27}, ("CLZ-02", "CLZ")),  # code wins
        ({"grid": "ZZZ-99", "lon": 108.957, "lat": 34.27}, ("XYL-02", "XYL")),  # unknown code
        ({"street": "CLZ"}, (None, "CLZ")),
        ({"street": "nowhere"}, (None, None)),
        ({}, (None, None)),
    ],
)
def test_a_location_is_placed_by_grid_code_then_by_polygon(
    catalogue: Catalogue, location: dict[str, Any], expected: tuple[str | None, str | None]
) -> None:
    assert locate(catalogue, location) == expected


def test_locate_reads_attributes_as_well_as_keys(catalogue: Catalogue) -> None:
    class Location:
        grid = None
        lat = 34.27
        lon = 108.975

    assert locate(catalogue, Location()) == ("CLZ-02", "CLZ")


def test_grid_geometry_is_prepared_once_per_catalogue(catalogue: Catalogue) -> None:
    locate(catalogue, {"lon": 108.957, "lat": 34.27})
    index = catalogue.cached("grid_index", lambda: pytest.fail("rebuilt"))
    locate(catalogue, {"lon": 108.975, "lat": 34.27})
    assert catalogue.cached("grid_index", lambda: None) is index


@pytest.mark.parametrize(
    ("category", "grid", "street", "rule", "lead", "assist"),
    [
        ("water.outage", "CLZ-01", "CLZ", "R-water", "water", []),
        ("road.pothole", "XYL-02", "XYL", "R-road-xyl", "roads", ["xyl-office"]),
        ("road.pothole", "CLZ-02", "CLZ", "R-road", "roads", []),
        ("city.stall", "CLZ-03", "CLZ", "R-city-clz", "city", ["clz-office"]),
        ("city.stall", "XYL-01", "XYL", "R-city", "city", []),
        ("property.service", None, "XYL", "R-property", "housing", ["xyl-office"]),
        ("other.consult", "CLZ-01", "CLZ", "R-any", "clz-office", []),
        ("other.consult", None, "XYL", "R-any", "xyl-office", []),
    ],
)
def test_the_first_matching_rule_wins(
    catalogue: Catalogue,
    category: str,
    grid: str | None,
    street: str | None,
    rule: str,
    lead: str,
    assist: list[str],
) -> None:
    decision = route(catalogue, category, grid, street)
    assert (decision.rule_id, decision.lead, decision.assist) == (rule, lead, assist)
    assert decision.routable
    assert not any(candidate.matched for candidate in decision.candidates[:-1])
    assert decision.candidates[-1].id == rule


def test_a_rule_sending_to_the_street_office_is_skipped_without_a_street(
    catalogue: Catalogue,
) -> None:
    assisted = route(catalogue, "property.service", None, None)
    assert not assisted.routable
    by_id = {candidate.id: candidate for candidate in assisted.candidates}
    assert "no known street" in by_id["R-property"].reason
    assert "no known street" in by_id["R-any"].reason
    assert assisted.rule_id is None and assisted.assist == []
    assert "dispatcher" in assisted.reason


def test_a_category_missing_from_the_catalogue_is_unroutable(catalogue: Catalogue) -> None:
    decision = route(catalogue, "alien.landing", "XYL-01", "XYL")
    assert not decision.routable and decision.candidates == []
    assert "alien.landing" in decision.reason


def test_a_grid_wildcard_rule_does_not_match_a_case_without_grid(catalogue: Catalogue) -> None:
    decision = route(catalogue, "city.noise", None, "CLZ")
    assert decision.rule_id == "R-city"
    assert "grid (none) does not match 'CLZ-*'" in decision.candidates[-2].reason


def test_explain_is_json_data_for_the_dispatcher(catalogue: Catalogue) -> None:
    found = explain(catalogue, category="road.pothole", location={"lon": 108.951, "lat": 34.27})
    assert json.loads(json.dumps(found)) == found
    assert found["grid"] == "XYL-01" and found["street"] == "XYL"
    assert "lies in grid XYL-01" in found["located_by"]
    assert found["rule_id"] == "R-road-xyl" and found["lead"] == "roads"
    assert found["sla_policy"] == "general" and found["routable"] is True
    assert found["candidates"][-1] == {
        "id": "R-road-xyl",
        "matched": True,
        "reason": "category road.pothole matches 'road.*', street XYL matches 'XYL'",
    }
