"""Working time between two instants, as the timeline measures it."""

from __future__ import annotations

from datetime import datetime

from dispatch.catalogue import Calendar, WorkCalendar
from dispatch.queries.timeline import working_seconds

BEIJING = "Asia/Shanghai"
CALENDAR = WorkCalendar(Calendar(), BEIJING)  # 09:00–12:00 and 13:30–18:00


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def test_the_lunch_break_is_not_working_time() -> None:
    assert working_seconds(CALENDAR, at("2026-11-02T11:00"), at("2026-11-02T14:00")) == 1.5 * 3600


def test_a_night_and_a_weekend_do_not_count() -> None:
    friday_five, monday_ten = at("2026-11-06T17:00"), at("2026-11-09T10:00")
    assert working_seconds(CALENDAR, friday_five, monday_ten) == 2 * 3600


def test_the_national_day_holiday_does_not_count() -> None:
    # 2026-10-01 … 10-07 are holidays; Friday 30 September 2026 is a working day.
    before, after = at("2026-09-30T17:00"), at("2026-10-08T10:00")
    assert working_seconds(CALENDAR, before, after) == 2 * 3600


def test_an_empty_or_reversed_span_is_zero() -> None:
    moment = at("2026-11-02T10:00")
    assert working_seconds(CALENDAR, moment, moment) == 0
    assert working_seconds(CALENDAR, moment, at("2026-11-02T09:00")) == 0


def test_a_make_up_saturday_is_working_time() -> None:
    # Saturday 10 October 2026 is a 调休 working day.
    assert working_seconds(CALENDAR, at("2026-10-10T09:00"), at("2026-10-10T10:00")) == 3600
