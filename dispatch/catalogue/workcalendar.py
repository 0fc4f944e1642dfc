"""Working days and working hours in the catalogue's timezone (工作日, 调休).

Which days are working days:
1. a date in ``calendar.extra_workdays`` is a working day, one in ``extra_holidays`` is not;
2. otherwise, for a year ``chinese-calendar`` ships, its answer (it knows the 调休 make-up
   Saturdays and Sundays of each State Council notice);
3. otherwise Monday–Friday. Such a day is *assumed* unless the catalogue gives overrides for
   that year, i.e. the admin typed in that year's notice themselves.

Durations (see ``durations``):
- ``m`` / ``h``: clock time from the start; holidays do not matter (hotline emergencies).
- ``wd``: the day the case is received never counts, whatever the hour (期间开始之日不计算在内,
  as in administrative deadlines); the deadline is the close of the Nth working day after it.
  Received Friday 10:00 with 1wd → close of Monday (if Monday is a working day).
- ``wh``: working hours consumed inside the working periods of working days, starting from the
  start if it falls inside a period, else from the next period's opening.
Working periods default to 09:00–12:00 and 13:30–18:00 local (``calendar.work_hours``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import metadata
from zoneinfo import ZoneInfo

import chinese_calendar

from dispatch.catalogue.durations import Duration, parse_duration
from dispatch.catalogue.model import Calendar, minutes_of

# A calendar that never yields a working day (every day an extra holiday) must not hang a worker.
_MAX_DAYS_WALKED = 3 * 366


@cache
def chinese_calendar_years() -> frozenset[int]:
    """The years whose holiday notice the installed chinese-calendar ships."""
    return frozenset(day.year for day in chinese_calendar.holidays)


@cache
def chinese_calendar_version() -> str:
    try:
        return metadata.version("chinese-calendar")
    except metadata.PackageNotFoundError:
        return getattr(chinese_calendar, "__version__", "unknown")


@lru_cache(maxsize=4096)
def _official_workday(day: date) -> bool:
    # chinese-calendar validates its argument on every call: a twentieth of a routing job's
    # CPU went on asking it about the same few weeks of days again and again.
    return bool(chinese_calendar.is_workday(day))


class WorkCalendar:
    def __init__(self, calendar: Calendar, timezone: str | ZoneInfo) -> None:
        self.zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self._holidays = frozenset(calendar.extra_holidays)
        self._workdays = frozenset(calendar.extra_workdays)
        self._override_years = frozenset(d.year for d in self._holidays | self._workdays)
        self._periods = [(_clock(start), _clock(end)) for start, end in calendar.work_hours]
        self.version = _version_of(calendar)

    def day_status(self, day: date) -> tuple[bool, bool]:
        """``(is a working day, assumed)`` for a local date."""
        if day in self._workdays:
            return True, False
        if day in self._holidays:
            return False, False
        if day.year in chinese_calendar_years():
            return _official_workday(day), False
        return day.weekday() < 5, day.year not in self._override_years

    def is_workday(self, day: date) -> bool:
        return self.day_status(day)[0]

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day`` as UTC instants (empty on a day off)."""
        if not self.is_workday(day):
            return []
        return [
            (self._instant(day, start), self._instant(day, end)) for start, end in self._periods
        ]

    def close_of(self, day: date) -> datetime:
        """The end of the last working period of ``day``, in the calendar's timezone."""
        return self._instant(day, self._periods[-1][1]).astimezone(self.zone)

    def add(self, start: datetime, duration: Duration | str) -> tuple[datetime, bool]:
        """``(deadline, assumed)``: ``start`` plus ``duration``, in the calendar's timezone."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        duration = parse_duration(duration)
        if duration.is_clock:
            return (start.astimezone(UTC) + duration.clock()).astimezone(self.zone), False
        if duration.unit == "wd":
            return self._add_working_days(start, duration.amount)
        return self._add_working_hours(start, timedelta(hours=duration.amount))

    def _add_working_days(self, start: datetime, count: int) -> tuple[datetime, bool]:
        day = start.astimezone(self.zone).date()
        assumed = False
        for _ in range(_MAX_DAYS_WALKED):
            day += timedelta(days=1)
            working, guessed = self.day_status(day)
            assumed |= guessed
            count -= working
            if count == 0:
                return self.close_of(day), assumed
        raise ValueError(f"no {count} working days within {_MAX_DAYS_WALKED} days of {start}")

    def _add_working_hours(self, start: datetime, left: timedelta) -> tuple[datetime, bool]:
        cursor = start.astimezone(UTC)
        day = start.astimezone(self.zone).date()
        assumed = False
        for _ in range(_MAX_DAYS_WALKED):
            assumed |= self.day_status(day)[1]
            for opens, closes in self.periods(day):
                if closes <= cursor:
                    continue
                begin = max(opens, cursor)
                if closes - begin >= left:
                    return (begin + left).astimezone(self.zone), assumed
                left -= closes - begin
            day += timedelta(days=1)
        raise ValueError(f"working hours do not fit within {_MAX_DAYS_WALKED} days of {start}")

    def _instant(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)


def _clock(text: str) -> time:
    minutes = minutes_of(text)
    return time(minutes // 60, minutes % 60)


def _version_of(calendar: Calendar) -> str:
    """``chinese-calendar 1.11.0+<hash of the catalogue's overrides and working hours>``."""
    overrides = {
        "extra_holidays": sorted(d.isoformat() for d in calendar.extra_holidays),
        "extra_workdays": sorted(d.isoformat() for d in calendar.extra_workdays),
        "work_hours": [list(period) for period in calendar.work_hours],
    }
    digest = hashlib.sha256(json.dumps(overrides, sort_keys=True).encode()).hexdigest()[:8]
    return f"chinese-calendar {chinese_calendar_version()}+{digest}"
