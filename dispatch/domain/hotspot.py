"""主动治理 (DESIGN §8.7): the windows hotspots are counted in, and the rule that a hotspot is
raised once.

Windows are fixed, back-to-back blocks of ``window_days`` local days counted from
1970-01-05 (a Monday), so a 7-day window is a Monday-to-Sunday week and every scheduler,
whenever it scans, agrees on which window a day falls in. One stream per (grid, category,
window) holds at most one ``HotspotDetected``. Nothing here reads the clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from dispatch.domain.events import HotspotDetected
from events import Event

EPOCH = date(1970, 1, 5)  # a Monday
STREAM_PREFIX = "hotspot-"
STREAM_LIMIT = 64  # the event log's stream id column


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # included

    def after(self) -> date:
        """The first day after the window (its end, excluded)."""
        return self.end + timedelta(days=1)

    def previous(self) -> Window:
        length = (self.end - self.start).days + 1
        start = self.start - timedelta(days=length)
        return Window(start, self.start - timedelta(days=1))


def window_of(day: date, window_days: int) -> Window:
    """The window ``day`` falls in."""
    index = (day - EPOCH).days // window_days
    start = EPOCH + timedelta(days=index * window_days)
    return Window(start, start + timedelta(days=window_days - 1))


def hotspot_stream(grid: str, category: str, window_start: date) -> str:
    """``hotspot-<grid>-<category>-<yyyymmdd>``; long codes are hashed to fit the log's ids."""
    stream = f"{STREAM_PREFIX}{grid}-{category}-{window_start:%Y%m%d}"
    if len(stream) <= STREAM_LIMIT:
        return stream
    digest = hashlib.sha256(f"{grid}\n{category}".encode()).hexdigest()[:40]
    return f"{STREAM_PREFIX}{digest}-{window_start:%Y%m%d}"


def is_hotspot_stream(stream_id: str) -> bool:
    return stream_id.startswith(STREAM_PREFIX)


def decide_hotspot(history: Iterable[Event], detected: HotspotDetected) -> list[Event]:
    """Raised once per (grid, category, window): a stream that holds one decides nothing."""
    if any(isinstance(event, HotspotDetected) for event in history):
        return []
    return [detected]
