"""The grid map (DESIGN.md §8.7) in a real browser: the demo catalogue's every polygon drawn on
the dashboard and a street's own on the street page, shaded by open cases or overdue tasks, each
grid a link to its cases. Screenshots: ``test-output/screenshots/2x-grid-map-*.png``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import Console, file_case, shot, sign_in

from dispatch.catalogue import parse_catalogue
from dispatch.catalogue.versions import load_catalogue

DEMO = Path(__file__).parents[3] / "dispatch/demo/catalogue.yaml"
SAMPLE = Path(__file__).parents[3] / "dispatch/catalogue/samples/sample.yaml"
# How many cases each demo grid gets: a spread, so the shades differ.
CASES_PER_GRID = {
    "QH-01": 1, "QH-03": 2, "QH-04": 4, "QH-08": 1, "LA-02": 3, "LA-05": 6, "LA-10": 2,
}  # fmt: skip


@pytest.fixture(scope="module")
def demo_city(console: Console) -> Iterator[dict[str, str]]:
    """The demo catalogue active, with cases in some of its grids; the sample one after."""
    engine = console.container.engine
    load_catalogue(engine, DEMO.read_text(encoding="utf-8"), loaded_by="tests")
    numbers: dict[str, str] = {}
    for grid, count in CASES_PER_GRID.items():
        for index in range(count):
            _case_id, numbers[f"{grid}-{index}"] = file_case(
                console,
                description=f"{grid} 路面破损第{index + 1}处，车辆经过颠簸",
                category="road.pothole",
                location={"address": f"{grid}网格主干道{index + 1}号", "grid": grid},
            )
    try:
        yield numbers
    finally:
        load_catalogue(engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="tests")


def demo_grids() -> list[Any]:
    return parse_catalogue(DEMO.read_text(encoding="utf-8")).grids


def drawn(page: Any) -> dict[str, int]:
    paths = page.locator("svg#grid-map path.grid")
    return {
        paths.nth(i).get_attribute("data-grid"): int(paths.nth(i).get_attribute("data-value"))
        for i in range(paths.count())
    }


def test_the_dashboard_draws_every_demo_grid_shaded_by_its_open_cases(
    new_page: Any, console: Console, demo_city: dict[str, str]
) -> None:
    page = new_page()
    sign_in(page, console.user("supervisor"), next_path="/console/dashboard")
    page.goto("/console/dashboard#grid-map-card")

    with_polygons = [grid.code for grid in demo_grids() if grid.polygon]
    assert page.locator("svg#grid-map path.grid").count() == len(with_polygons) == 20
    values = drawn(page)
    assert sorted(values) == sorted(with_polygons)
    for grid, count in CASES_PER_GRID.items():
        assert values[grid] >= count  # at least the cases filed here (routing may not close any)
    busiest = page.locator('svg#grid-map path.grid[data-grid="LA-05"]')
    tooltip = busiest.locator("title").text_content() or ""
    assert tooltip.startswith("春晖社区南片网格 (LA-05) · 未办结工单: ")
    quiet = page.locator('svg#grid-map path.grid[data-grid="QH-02"]')
    assert busiest.get_attribute("fill") != quiet.get_attribute("fill")
    assert page.locator("svg#grid-map path.street-outline").count() == 2
    page.locator("#grid-map-card").screenshot(path=str(console.screenshots / "2x-grid-map.png"))
    shot(page, console, "2x-grid-map-dashboard")


def test_a_street_officer_sees_its_own_grids_and_a_grid_opens_its_cases(
    new_page: Any, console: Console, demo_city: dict[str, str]
) -> None:
    page = new_page()
    sign_in(page, console.user("street", street="QH"), next_path="/console/street")
    page.goto("/console/street")

    values = drawn(page)
    assert sorted(values) == sorted(g.code for g in demo_grids() if g.street == "QH")
    page.locator("#grid-map-card").screenshot(
        path=str(console.screenshots / "2x-grid-map-street.png")
    )

    with page.expect_navigation():
        page.locator('svg#grid-map a[data-grid="QH-04"]').click()
    assert "grid=QH-04" in page.url
    for index in range(CASES_PER_GRID["QH-04"]):
        assert demo_city[f"QH-04-{index}"] in page.content()
    assert demo_city["QH-03-0"] not in page.content()


def test_the_map_switches_to_overdue_tasks(
    new_page: Any, console: Console, demo_city: dict[str, str]
) -> None:
    page = new_page()
    sign_in(page, console.user("dispatcher"), next_path="/console/dashboard")
    page.goto("/console/dashboard")
    with page.expect_navigation():
        page.locator('.measure-tabs a[data-measure="overdue"]').click()
    assert page.locator("svg#grid-map").get_attribute("data-measure") == "overdue"
    assert page.locator("svg#grid-map path.grid").count() == 20
    assert page.locator('.measure-tabs a[data-measure="overdue"]').get_attribute("class") == (
        "chosen"
    )
