"""The grid map's SVG layout: every polygon drawn inside the viewBox, shapes kept (cos(lat)),
a readable shade scale, labels only where they fit, grids without polygons listed aside."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from dispatch.catalogue import parse_catalogue
from dispatch.console.grid_svg import FILLS, ZERO_FILL, grid_map, shade_of, shades
from dispatch.queries.grid_map import GridValue

DEMO = Path(__file__).parents[2] / "dispatch/demo/catalogue.yaml"
SAMPLE = Path(__file__).parents[2] / "dispatch/catalogue/samples/sample.yaml"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def square(lon: float, lat: float, side: float = 0.01) -> list[tuple[float, float]]:
    return [(lon, lat), (lon + side, lat), (lon + side, lat + side), (lon, lat + side), (lon, lat)]


def value(code: str, polygon: list[tuple[float, float]] | None, count: int = 0, street: str = "S"):
    return GridValue(code, f"{code}网格", street, None, count, polygon)


def link(grid: GridValue) -> str:
    return f"/console/cases?grid={grid.grid}"


def points_of(path: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in NUMBER.findall(path)]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def catalogue_values(path: Path) -> list[GridValue]:
    catalogue = parse_catalogue(path.read_text(encoding="utf-8"))
    return [
        GridValue(g.code, g.name, g.street, g.community, index, g.polygon)
        for index, g in enumerate(catalogue.grids)
    ]


@pytest.mark.parametrize("source", [DEMO, SAMPLE], ids=["demo", "sample"])
def test_every_polygon_of_the_catalogue_is_drawn_inside_the_viewbox(source: Path) -> None:
    values = catalogue_values(source)
    drawn = grid_map(values, link)
    assert [g.grid for g in drawn.grids] == [v.grid for v in values if v.polygon]
    assert len(drawn.grids) == len(values)  # both catalogues draw every grid
    for grid in drawn.grids:
        for x, y in points_of(grid.path):
            assert 0 <= x <= drawn.width and 0 <= y <= drawn.height, (grid.grid, x, y)
        assert 0 <= grid.label_x <= drawn.width and 0 <= grid.label_y <= drawn.height


def test_a_grid_without_a_polygon_is_listed_beside_the_map_with_its_link() -> None:
    drawn = grid_map([value("A", square(113.3, 30.5), 2), value("B", None, 5)], link)
    assert [g.grid for g in drawn.grids] == ["A"]
    assert [(g.grid, g.value, g.href) for g in drawn.unplaced] == [
        ("B", 5, "/console/cases?grid=B")
    ]
    assert drawn.unplaced[0].shade.fill == FILLS[-1]  # the largest number, the darkest shade


def test_only_unplaced_grids_draw_no_map_but_still_list_them() -> None:
    drawn = grid_map([value("A", None, 1)], link)
    assert drawn.grids == [] and [g.grid for g in drawn.unplaced] == ["A"]


def test_a_square_on_the_ground_stays_square_on_the_map() -> None:
    """At 60° a degree of longitude is half a degree of latitude on the ground."""
    lat = 60.0
    ring = [(10.0, lat), (10.02, lat), (10.02, lat + 0.01), (10.0, lat + 0.01), (10.0, lat)]
    drawn = grid_map([value("A", ring)], link, width=400, max_height=400, pad=0)
    xs, ys = zip(*points_of(drawn.grids[0].path), strict=True)
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    assert width == pytest.approx(height * 2 * math.cos(math.radians(lat + 0.005)), rel=0.01)


def test_the_map_fits_the_size_asked_for() -> None:
    tall = [(0.0, 0.0), (0.01, 0.0), (0.01, 0.1), (0.0, 0.1), (0.0, 0.0)]
    drawn = grid_map([value("A", tall)], link, width=700, max_height=300, pad=10)
    assert drawn.height == pytest.approx(300) and drawn.width < 700


def test_each_grid_links_to_its_cases_and_carries_its_value() -> None:
    drawn = grid_map([value("A", square(113.3, 30.5), 3)], link)
    (grid,) = drawn.grids
    assert grid.href == "/console/cases?grid=A" and grid.value == 3


def test_zero_is_neutral_and_larger_numbers_are_darker() -> None:
    scale = shades(10)
    assert scale[0].fill == ZERO_FILL and scale[0].label == "0"
    assert [s.label for s in scale[1:]] == ["1–2", "3–4", "5–6", "7–8", "9–10"]
    assert [s.fill for s in scale[1:]] == list(FILLS)
    assert shade_of(0, scale).step == 0 and shade_of(10, scale).step == 5


def test_few_distinct_numbers_get_one_step_each_from_light_to_dark() -> None:
    scale = shades(2)
    assert [s.label for s in scale] == ["0", "1", "2"]
    assert scale[1].fill == FILLS[0] and scale[2].fill == FILLS[-1]


def test_nothing_to_count_shows_one_zero_step() -> None:
    assert [s.label for s in shades(0)] == ["0"]


def test_grids_show_their_names_when_every_name_fits() -> None:
    wide = [(0.0, 0.0), (0.1, 0.0), (0.1, 0.1), (0.0, 0.1), (0.0, 0.0)]
    drawn = grid_map([value("W-1", wide)], link, width=400, max_height=400)
    assert [g.label for g in drawn.grids] == ["W-1网格"]


def test_one_name_too_long_for_its_grid_makes_the_whole_map_show_codes() -> None:
    """Room for "N-1" (about 19 px) but not for "N-1网格" (43 px): codes everywhere."""
    narrow = [(0.0, 0.0), (0.012, 0.0), (0.012, 0.1), (0.0, 0.1), (0.0, 0.0)]
    wide = [(0.012, 0.0), (0.1, 0.0), (0.1, 0.1), (0.012, 0.1), (0.012, 0.0)]
    drawn = grid_map([value("N-1", narrow), value("W-1", wide)], link, width=400, max_height=400)
    assert {g.grid: g.label for g in drawn.grids} == {"N-1": "N-1", "W-1": "W-1"}


def test_a_grid_too_narrow_even_for_its_code_shows_no_label() -> None:
    sliver = [(0.0, 0.0), (0.002, 0.0), (0.002, 0.1), (0.0, 0.1), (0.0, 0.0)]
    drawn = grid_map([value("S-1", sliver)], link, width=400, max_height=400)
    assert drawn.grids[0].label == "" and not drawn.grids[0].show_value


def test_a_slanted_grid_is_measured_where_its_label_sits_not_by_its_box() -> None:
    """A parallelogram leaning far over: its box is wide, its rows are narrow."""
    leaning = [(0.0, 0.0), (0.006, 0.0), (0.1, 0.1), (0.094, 0.1), (0.0, 0.0)]
    drawn = grid_map([value("L-1", leaning)], link, width=400, max_height=400)
    assert drawn.grids[0].label != "L-1网格"


def test_streets_are_outlined_when_the_map_shows_several() -> None:
    two = [value("A", square(0, 0), street="S"), value("B", square(0.01, 0), street="T")]
    one = [value("A", square(0, 0)), value("B", square(0.01, 0))]
    assert len(grid_map(two, link).outlines) == 2
    assert grid_map(one, link).outlines == []
