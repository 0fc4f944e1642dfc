"""GET requests' query parameters → a ``RequestFilter``, or a 400 naming the parameter.

The spec's defaults: the last 90 days, a window of at most 90 days; at most 500 requests (the
spec allows up to 1000; 500 is the service's page limit everywhere).
``page`` and ``page_size`` are the widely implemented pagination extension.
``service_request_id`` (comma-separated case numbers) overrides every other filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.open311.errors import Open311Error
from dispatch.open311.queries import RequestFilter

WINDOW = timedelta(days=90)
MAX_REQUESTS = 500
STATUSES = ("open", "closed")


def request_filter(query: Mapping[str, str], *, now: datetime, zone: ZoneInfo) -> RequestFilter:
    page = _whole_number(query, "page", 1, minimum=1, maximum=1_000_000)
    page_size = _whole_number(query, "page_size", MAX_REQUESTS, minimum=1, maximum=MAX_REQUESTS)
    case_nos = _list(query, "service_request_id")
    if case_nos:
        if len(case_nos) > MAX_REQUESTS:
            raise Open311Error(400, f"service_request_id: at most {MAX_REQUESTS} ids at once")
        return RequestFilter(case_nos=case_nos, page=page, page_size=page_size)
    statuses = _list(query, "status")
    wrong = [status for status in statuses if status not in STATUSES]
    if wrong:
        raise Open311Error(
            400, f"status is open, closed or both (comma-separated), not {wrong[0]!r}"
        )
    start, end = _window(query, now=now, zone=zone)
    return RequestFilter(
        service_codes=_list(query, "service_code"),
        start=start,
        end=end,
        statuses=statuses,
        page=page,
        page_size=page_size,
    )


def _window(
    query: Mapping[str, str], *, now: datetime, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    start = _moment(query, "start_date", zone)
    end = _moment(query, "end_date", zone)
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return start, end


def _moment(query: Mapping[str, str], name: str, zone: ZoneInfo) -> datetime | None:
    text = (query.get(name) or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(
            400, f"{name} must be a W3C date-time such as 2026-11-01T00:00:00+08:00, not {text!r}"
        ) from None
    # A time without an offset is read in the centre's time zone.
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _list(query: Mapping[str, str], name: str) -> list[str]:
    text = query.get(name) or ""
    return [part.strip() for part in text.split(",") if part.strip()]


def _whole_number(
    query: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int
) -> int:
    text = (query.get(name) or "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or not (
        minimum <= int(text) <= maximum
    ):
        raise Open311Error(400, f"{name} must be a whole number from {minimum} to {maximum}")
    return int(text)
