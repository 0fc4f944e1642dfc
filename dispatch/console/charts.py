"""Chart geometry for server-rendered SVG: the templates draw what these functions lay out.

No script and nothing fetched: a bar is a ``<rect>`` whose numbers come from here, and every
bar carries its value as text (``<title>``) for screen readers and hover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.console.display import as_datetime

RATE_SERIES = ("response_rate", "solve_rate", "satisfaction_rate", "score")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    value: float | None


@dataclass(frozen=True)
class Group:
    key: str
    y: float
    dispatched: int
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class RateChart:
    """Per department: 响应率, 解决率, 满意率 (0–100 %) and the score (0–100), side by side."""

    groups: list[Group]
    width: float
    height: float
    label_width: float
    plot_width: float
    series: tuple[str, ...] = RATE_SERIES


def rate_chart(
    rows: list[dict[str, Any]], *, label_width: float = 220, plot: float = 700
) -> RateChart:
    bar, gap = 9.0, 14.0
    top = 8.0
    groups = []
    y = top
    for row in rows:
        bars = []
        for index, series in enumerate(RATE_SERIES):
            value = row.get(series)
            fraction = 0.0 if value is None else (value / 100 if series == "score" else value)
            fraction = min(max(fraction, 0.0), 1.0)
            bars.append(
                Bar(label_width, y + index * bar, plot * fraction, bar - 1.5, series, value)
            )
        groups.append(Group(str(row["key"]), y, int(row.get("dispatched") or 0), bars))
        y += bar * len(RATE_SERIES) + gap
    width = label_width + plot + 70
    return RateChart(groups, width, max(y, 40.0), label_width, plot)


@dataclass(frozen=True)
class Day:
    day: str
    received: int
    closure_rate: float | None
    x: float
    bar_y: float
    bar_height: float
    point_y: float | None


@dataclass(frozen=True)
class TrendChart:
    days: list[Day]
    width: float
    height: float
    plot_top: float
    plot_bottom: float
    max_received: int
    step: float  # the width of one day
    line: str  # the closure-rate polyline's points


def trend_chart(
    rows: list[dict[str, Any]], *, width: float = 1000, height: float = 240
) -> TrendChart:
    """Cases received per day (columns) and the closure rate (a line, 0–100 % on the right)."""
    left, right, top, bottom = 40.0, 44.0, 12.0, height - 28.0
    received = [int((row.get("counts") or {}).get("received", 0)) for row in rows]
    peak = max([*received, 1])
    step = (width - left - right) / max(len(rows), 1)
    days = []
    for index, row in enumerate(rows):
        count = received[index]
        rate = row.get("closure_rate")
        column = (bottom - top) * count / peak
        x = left + index * step
        point = None if rate is None else bottom - (bottom - top) * rate
        days.append(Day(str(row["key"]), count, rate, x, bottom - column, column, point))
    line = " ".join(
        f"{day.x + step / 2:.1f},{day.point_y:.1f}" for day in days if day.point_y is not None
    )
    return TrendChart(days, width, height, top, bottom, peak, step, line)


@dataclass(frozen=True)
class Span:
    label: str
    detail: str
    x: float
    y: float
    width: float
    seconds: int | None
    working_seconds: int | None
    ongoing: bool
    start: datetime
    kind: str


@dataclass(frozen=True)
class Gantt:
    spans: list[Span]
    width: float
    height: float
    label_width: float
    plot_width: float
    start: datetime
    end: datetime


def gantt(
    entries: list[dict[str, Any]],
    now: datetime,
    *,
    label_key: str,
    detail_key: str,
    label_width: float = 260,
    plot: float = 680,
    row: float = 22,
) -> Gantt:
    """Each stage (or holder) as a bar from its start to its end (or now, while it lasts)."""
    starts = [as_datetime(entry["start"]) for entry in entries]
    ends = [as_datetime(entry.get("end")) or now for entry in entries]
    first = min((s for s in starts if s is not None), default=now)
    last = max([*ends, first])
    total = max((last - first).total_seconds(), 1.0)
    spans = []
    for index, entry in enumerate(entries):
        start = starts[index] or first
        end = ends[index]
        x = label_width + plot * (start - first).total_seconds() / total
        width = max(plot * (end - start).total_seconds() / total, 2.0)
        spans.append(
            Span(
                label=str(entry.get(label_key) or ""),
                detail=str(entry.get(detail_key) or ""),
                x=x,
                y=6 + index * row,
                width=min(width, label_width + plot - x + 2),
                seconds=entry.get("seconds"),
                working_seconds=entry.get("working_seconds"),
                ongoing=bool(entry.get("ongoing")),
                start=start,
                kind=str(entry.get("kind") or entry.get("stage") or ""),
            )
        )
    height = 12 + row * max(len(entries), 1)
    return Gantt(spans, label_width + plot + 110, height, label_width, plot, first, last)
