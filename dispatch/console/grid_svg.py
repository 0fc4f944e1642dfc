"""The grid map's geometry for server-rendered SVG: the template draws what this lays out.

No tiles, no script, nothing fetched: each grid polygon of the catalogue becomes one ``<path>``
in a viewBox fitted to the grids' bounding box. Longitude and latitude are projected
equirectangularly, longitude scaled by cos(latitude) at the middle of the box, so a square
block of streets stays square at a city's scale. Shades come from a small sequential scale
with a class per step, zero in a neutral colour, so an empty grid never looks busy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shapely import LineString, Polygon, unary_union
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from dispatch.queries.grid_map import GridValue

# Zero, then light to dark (ColorBrewer YlOrRd); ``INK`` is the text colour readable on each.
ZERO_FILL = "#eef1f5"
FILLS = ("#fed976", "#feb24c", "#fd8d3c", "#e8431f", "#b10026")
INK = ("#1d2733", "#1d2733", "#1d2733", "#ffffff", "#ffffff")
MAX_STEPS = len(FILLS)
FONT = 12.0  # px, the labels' size; the value is drawn a little larger
LABEL_MARGIN = 6.0  # px kept clear between a label and its grid's edge


@dataclass(frozen=True)
class Shade:
    step: int  # 0 for zero, then 1..n
    low: int
    high: int
    fill: str
    ink: str

    @property
    def label(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"

    @property
    def dark(self) -> bool:
        """White text reads better on this fill."""
        return self.ink == "#ffffff"

    def holds(self, value: int) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class DrawnGrid:
    grid: str
    name: str
    street: str
    value: int
    path: str  # the SVG path data, in viewBox units
    label_x: float
    label_y: float
    label: str  # the name when it fits, else the code, else nothing
    show_value: bool  # too small a polygon shows its number in the tooltip only
    shade: Shade
    href: str


@dataclass(frozen=True)
class UnplacedGrid:
    """A grid without a polygon: listed beside the map."""

    grid: str
    name: str
    street: str
    value: int
    shade: Shade
    href: str


@dataclass(frozen=True)
class GridMap:
    width: float
    height: float
    grids: list[DrawnGrid]
    unplaced: list[UnplacedGrid]
    legend: list[Shade]
    outlines: list[str]  # one path per street, drawn over the grids when several are shown


def shades(highest: int) -> list[Shade]:
    """Zero, then up to ``MAX_STEPS`` integer ranges covering 1..highest, light to dark."""
    scale = [Shade(0, 0, 0, ZERO_FILL, INK[0])]
    steps = min(MAX_STEPS, max(highest, 0))
    low = 1
    for step in range(1, steps + 1):
        high = math.ceil(highest * step / steps)
        colour = round((step - 1) * (MAX_STEPS - 1) / (steps - 1)) if steps > 1 else 2
        scale.append(Shade(step, low, high, FILLS[colour], INK[colour]))
        low = high + 1
    return scale


def shade_of(value: int, scale: Sequence[Shade]) -> Shade:
    return next((shade for shade in scale if shade.holds(value)), scale[-1])


@dataclass(frozen=True)
class _Frame:
    """lon/lat → viewBox units."""

    west: float
    north: float
    stretch: float  # cos(middle latitude): a degree of longitude is that much shorter
    scale: float  # viewBox units per degree of latitude
    pad: float

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x = self.pad + (lon - self.west) * self.stretch * self.scale
        y = self.pad + (self.north - lat) * self.scale
        return x, y


def _frame(
    rings: Sequence[Sequence[tuple[float, float]]], width: float, max_height: float, pad: float
) -> tuple[_Frame, float, float]:
    lons = [lon for ring in rings for lon, _lat in ring]
    lats = [lat for ring in rings for _lon, lat in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    stretch = math.cos(math.radians((south + north) / 2))
    across = max((east - west) * stretch, 1e-9)
    down = max(north - south, 1e-9)
    scale = min((width - 2 * pad) / across, (max_height - 2 * pad) / down)
    frame = _Frame(west, north, stretch, scale, pad)
    return frame, across * scale + 2 * pad, down * scale + 2 * pad


def _path(frame: _Frame, ring: Sequence[tuple[float, float]]) -> str:
    points = [frame.point(lon, lat) for lon, lat in ring[:-1]]  # the ring repeats its start
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z"


def _outline_paths(frame: _Frame, shape: BaseGeometry) -> str:
    polygons = list(getattr(shape, "geoms", [shape]))
    parts = []
    for polygon in polygons:
        if isinstance(polygon, Polygon):
            for ring in (polygon.exterior, *polygon.interiors):
                parts.append(_path(frame, list(ring.coords)))
    return " ".join(parts)


def _text_width(text: str, size: float = FONT) -> float:
    """A fair guess without a font: CJK glyphs are square, Latin ones about 0.6 wide."""
    return sum(size if ord(char) > 0x2E80 else size * 0.62 for char in text)


def _label_point(polygon: Polygon) -> tuple[float, float]:
    """The centroid when it is well inside, else the point farthest from every edge (an
    L-shaped grid's centroid may lie outside it), else any inside point for an odd shape."""
    try:
        inside = polylabel(polygon, tolerance=1e-6)
    except (GEOSException, ValueError):
        inside = polygon.representative_point()
    centre = polygon.centroid
    room = polygon.exterior.distance(inside)
    if polygon.contains(centre) and polygon.exterior.distance(centre) >= 0.8 * room:
        return centre.x, centre.y
    return inside.x, inside.y


def grid_map(
    values: Sequence[GridValue],
    href: Callable[[GridValue], str],
    *,
    width: float = 760,
    max_height: float = 560,
    pad: float = 10,
) -> GridMap:
    """Lay out every grid with a polygon; list the others; shade both by their value."""
    scale = shades(max((value.value for value in values), default=0))
    placed = [value for value in values if value.polygon]
    unplaced = [
        UnplacedGrid(v.grid, v.name, v.street, v.value, shade_of(v.value, scale), href(v))
        for v in values
        if not v.polygon
    ]
    if not placed:
        return GridMap(width, 0, [], unplaced, scale, [])
    rings = [value.polygon or [] for value in placed]
    frame, map_width, map_height = _frame(rings, width, max_height, pad)
    drawn = [_drawn(frame, v, shade_of(v.value, scale), href(v), names=True) for v in placed]
    if any(grid.label not in (grid.name, "") for grid in drawn):
        # A map mixing names and codes reads badly: codes everywhere, names in the tooltips.
        drawn = [_drawn(frame, v, shade_of(v.value, scale), href(v), names=False) for v in placed]
    return GridMap(map_width, map_height, drawn, unplaced, scale, _outlines(frame, placed))


def _chord(polygon: Polygon, lon: float, lat: float) -> tuple[float, float]:
    """The stretch of the polygon's row at ``lat`` that holds ``lon`` (west and east ends):
    a slanted or L-shaped grid is narrower there than its bounding box."""
    west, _south, east, _north = polygon.bounds
    try:
        cut = polygon.intersection(LineString([(west - 1, lat), (east + 1, lat)]))
    except GEOSException:
        return lon, lon
    for piece in getattr(cut, "geoms", [cut]):
        if isinstance(piece, LineString) and not piece.is_empty:
            start, _s, end, _e = piece.bounds
            if start <= lon <= end:
                return start, end
    return lon, lon


def _drawn(frame: _Frame, value: GridValue, shade: Shade, link: str, *, names: bool) -> DrawnGrid:
    ring = value.polygon or []
    polygon = Polygon(ring)
    lon, lat = _label_point(polygon)
    start, end = _chord(polygon, lon, lat)
    x, y = frame.point((start + end) / 2 if end > start else lon, lat)
    room = frame.point(end, lat)[0] - frame.point(start, lat)[0] - 2 * LABEL_MARGIN
    ys = [frame.point(p_lon, p_lat)[1] for p_lon, p_lat in ring]
    tall = max(ys) - min(ys)
    label = next(
        (
            text
            for text in ((value.name, value.grid) if names else (value.grid,))
            if _text_width(text) <= room and tall > 3 * FONT
        ),
        "",
    )
    show_value = room >= _text_width(str(value.value), FONT * 1.3) and tall >= FONT * 1.6
    return DrawnGrid(
        grid=value.grid,
        name=value.name,
        street=value.street,
        value=value.value,
        path=_path(frame, ring),
        label_x=round(x, 1),
        label_y=round(y, 1),
        label=label,
        show_value=show_value,
        shade=shade,
        href=link,
    )


def _outlines(frame: _Frame, placed: Sequence[GridValue]) -> list[str]:
    streets: dict[str, list[Polygon]] = {}
    for value in placed:
        streets.setdefault(value.street, []).append(Polygon(value.polygon or []))
    if len(streets) < 2:
        return []
    outlines = []
    for polygons in streets.values():
        try:
            outlines.append(_outline_paths(frame, unary_union(polygons)))
        except GEOSException:  # an invalid ring: the grids are still drawn, without the border
            continue
    return outlines
