"""The demo's one hotspot (主动治理): a week in the middle of the month when one grid's street
vendors (占道经营) draw complaint after complaint, and the scan that raises it.

The hotspot's cases are some of the month's arrivals given that grid and category, not extra
ones, so the month keeps the number of cases asked for. The scan is the scheduler's own
(``dispatch.ops.hotspot_scan``), run at the end of every demo day as the timer would have.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue
from dispatch.demo.agenda import Agenda
from dispatch.domain.hotspot import window_of
from dispatch.ops.hotspot_scan import raise_hotspots


@dataclass(frozen=True)
class Focus:
    """Where and what a complaint is about, chosen by the story rather than the dice."""

    grid: str
    category: str


HOTSPOT = Focus(grid="QH-03", category="city.stall")
HOTSPOT_CASES = 7  # above the threshold (5), so a merged duplicate or two still leave a hotspot
HOTSPOT_DAY = timedelta(days=12)  # after the month's start: its window is the hotspot's
SCAN_AT = time(23, 50)  # local: the day's last scan


def hotspot_arrivals(
    rng: random.Random, catalogue: Catalogue, start: datetime, arrivals: list[datetime]
) -> set[int]:
    """Which of ``arrivals`` (their indexes) are the hotspot's: a few inside one window."""
    if catalogue.hotspots is None:
        return set()
    zone = catalogue.zone
    day = (start + HOTSPOT_DAY).astimezone(zone).date()
    window = window_of(day, catalogue.hotspots.window_days)
    inside = [
        index
        for index, moment in enumerate(arrivals)
        if window.start <= moment.astimezone(zone).date() <= window.end
    ]
    return set(rng.sample(inside, k=min(HOTSPOT_CASES, len(inside))))


def schedule_scans(
    container: Container, agenda: Agenda, catalogue: Catalogue, start: datetime, end: datetime
) -> None:
    zone = catalogue.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        agenda.at(datetime.combine(day, SCAN_AT, tzinfo=zone), _scan, container)


def _scan(container: Container) -> None:
    raise_hotspots(container)
