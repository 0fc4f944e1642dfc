"""主动治理: the scan raises ``HotspotDetected`` for every (grid, category) with at
least the catalogue's ``min_cases`` cases in the current window or the one just ended, once.

The just-ended window is scanned too, so cases filed late on its last day, or a scheduler
that was down at the turn of the window, still raise it. The counting is the one behind
``GET /stats/hotspots`` (``dispatch.queries.hotspots``), over the window's local days; the
``hotspots`` projection spares asking about pairs already raised, and the handler decides on
the hotspot's own stream (``expected_version``, a command id fixed by grid, category and
window), so two schedulers, or one restarted, raise each hotspot once.

The scheduler runs it on its timer (``workers.hotspot_timers``); the demo runs it at the end
of each of its days (``dispatch.demo.history``), which is why it lives in ``dispatch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue
from dispatch.domain.events import HotspotDetected
from dispatch.domain.hotspot import Window, window_of
from dispatch.handlers.hotspots import hotspot_raised
from dispatch.queries.detected_hotspots import raised_pairs
from dispatch.queries.hotspots import hotspots
from events.database import read_only_connection


@dataclass(frozen=True)
class _Centre:
    """The scan counts every street's grids."""

    roles: tuple[str, ...] = ("supervisor",)
    department: str | None = None
    street: str | None = None


def raise_hotspots(container: Container, now: datetime | None = None) -> int:
    """How many hotspots this scan raised."""
    active = container.handling.catalogue_source()
    if active is None or active[1].hotspots is None:
        return 0
    catalogue = active[1]
    setting = catalogue.hotspots
    assert setting is not None
    now = now or container.clock()
    current = window_of(now.astimezone(catalogue.zone).date(), setting.window_days)
    container.fresh("case_list")
    container.fresh("hotspots")
    raised = sum(
        _raise_window(container, catalogue, window, setting.min_cases)
        for window in (current.previous(), current)
    )
    if raised:
        container.fresh("hotspots")  # the worklist and the next scan see them at once
    return raised


def _raise_window(container: Container, catalogue: Catalogue, window: Window, least: int) -> int:
    with read_only_connection(container.engine) as conn:
        done = raised_pairs(conn, window.start)
        found = hotspots(
            conn,
            _Centre(),
            start=_midnight(catalogue, window.start),
            end=_midnight(catalogue, window.after()),
            min_cases=least,
        )
    return sum(
        hotspot_raised(container.handling, _detected(catalogue, window, item))
        for item in found
        if (item["grid"], item["category"]) not in done
    )


def _detected(catalogue: Catalogue, window: Window, item: dict[str, object]) -> HotspotDetected:
    grid_code = str(item["grid"])
    grid = catalogue.grid(grid_code)
    street = catalogue.street(grid.street) if grid is not None else None
    cases = item["cases"]
    assert isinstance(cases, list)
    return HotspotDetected(
        grid=grid_code,
        street=grid.street if grid is not None else None,
        category=str(item["category"]),
        window_start=window.start,
        window_end=window.end,
        cases=[str(case_no) for case_no in cases],
        office=street.office if street is not None else None,
    )


def _midnight(catalogue: Catalogue, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=catalogue.zone)


__all__ = ["raise_hotspots"]
