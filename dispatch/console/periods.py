"""The dashboard's period and filter bar, read from the query string and written back into
every link and form of the page (month arrows, alert pages, urge buttons, ledger exports).

A supervisor judges departments on a finished month, so the page opens on the last complete
month; a chosen range (``from``/``to``, dates, both included) replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from dispatch.queries.kpis import month_bounds

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CODE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in local time; ``month`` when it is one calendar month."""

    start: datetime
    end: datetime
    month: str | None
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        if self.month:
            return self.month
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


@dataclass(frozen=True)
class Filters:
    """What narrows the alerts and the ledger: codes checked against the catalogue."""

    department: str | None = None
    street: str | None = None
    category: str | None = None


def last_complete_month(now: datetime, zone: ZoneInfo) -> str:
    local = now.astimezone(zone)
    previous = date(local.year, local.month, 1) - timedelta(days=1)
    return previous.strftime("%Y-%m")


def shift_month(month: str, by: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def chosen_period(
    now: datetime, zone: ZoneInfo, *, month: str = "", first: str = "", last: str = ""
) -> Period:
    """A valid range ``from``..``to`` wins; then a valid month; else the last complete month.
    Nonsense (a month 13, ``to`` before ``from``) falls back rather than failing the page."""
    start_day, end_day = _day(first), _day(last)
    if start_day and end_day and start_day <= end_day <= start_day + timedelta(days=366):
        start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=zone)
        after = end_day + timedelta(days=1)
        end = datetime(after.year, after.month, after.day, tzinfo=zone)
        return Period(start, end, None, start_day, end_day)
    month = month if MONTH.match(month) else last_complete_month(now, zone)
    start, end = month_bounds(month, str(zone))
    return Period(start, end, month, start.date(), (end - timedelta(days=1)).date())


def chosen_filters(
    known: dict[str, dict[str, str]], *, department: str = "", street: str = "", category: str = ""
) -> Filters:
    """Only codes the catalogue knows; anything else is ignored (no filter)."""

    def pick(kind: str, value: str) -> str | None:
        value = value.strip()
        return value if CODE.match(value) and value in known.get(kind, {}) else None

    return Filters(
        department=pick("department", department),
        street=pick("street", street),
        category=pick("category", category),
    )


def query_string(period: Period, filters: Filters, **extra: str | int) -> str:
    """``month=…`` or ``from=…&to=…`` plus the filters: what a link must carry to keep them."""
    pairs: dict[str, str | int] = (
        {"month": period.month}
        if period.month
        else {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}
    )
    for name in ("department", "street", "category"):
        value = getattr(filters, name)
        if value:
            pairs[name] = value
    pairs.update({key: value for key, value in extra.items() if value})
    return urlencode(pairs)
