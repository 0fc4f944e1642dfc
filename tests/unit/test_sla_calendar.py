"""Deadlines over real holiday periods, 调休 make-up workdays, overrides and unknown years.

Expected dates were checked against chinese-calendar 1.11 (the State Council notices):
- 2025 National Day + Mid-Autumn: 10-01..10-08 off; Sun 09-28 and Sat 10-11 are workdays.
- 2026 Spring Festival: 02-15..02-23 off; Sat 02-14 and Sat 02-28 are workdays.
- 2026 Mid-Autumn 09-25..09-27 off (so the Friday before National Day is a holiday);
  National Day 10-01..10-07 off; Sun 09-20 and Sat 10-10 are workdays.
- 2027 is unknown to chinese-calendar 1.11: Monday–Friday is assumed.
Working days close at 18:00; the day a case is received never counts towards ``wd``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import yaml
from builders import assignment, given, received, task_history

from dispatch.catalogue import (
    Catalogue,
    deadlines_for,
    parse_catalogue,
    warning_time,
    work_calendar,
)
from dispatch.catalogue.sla import UnknownCategory
from dispatch.domain import commands as cmd
from dispatch.domain.case import DomainError, TaskStatus, decide
from dispatch.domain.deadlines import latest_reply_by
from dispatch.domain.events import Deadlines

SAMPLE = Path(__file__).parents[2] / "dispatch" / "catalogue" / "samples" / "sample.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def catalogue_with(**calendar: Any) -> Catalogue:
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["calendar"].update(calendar)
    return parse_catalogue(json.dumps(data, default=str))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return parse_catalogue(SAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-09-28", True),  # Sunday, 调休 for National Day
        ("2025-10-01", False),
        ("2025-10-08", False),
        ("2025-10-11", True),  # Saturday, 调休
        ("2025-10-12", False),
        ("2026-02-14", True),  # Saturday, 调休 for Spring Festival
        ("2026-02-23", False),
        ("2026-09-25", False),  # Mid-Autumn, the Friday before National Day
        ("2026-10-10", True),
        ("2027-01-01", True),  # unknown year: Monday–Friday assumed
        ("2027-01-02", False),
    ],
)
def test_working_days_follow_the_state_council_notice(
    catalogue: Catalogue, day: str, working: bool
) -> None:
    parsed = date.fromisoformat(day)
    assert work_calendar(catalogue).is_workday(parsed) is working
    if parsed.year <= 2026:
        assert chinese_calendar.is_workday(parsed) is working


@pytest.mark.parametrize(
    ("received", "duration", "deadline"),
    [
        # 2025 National Day / Mid-Autumn
        ("2025-09-26 10:00", "1wd", "2025-09-28 18:00"),  # Fri → the 调休 Sunday
        ("2025-09-29 10:00", "1wd", "2025-09-30 18:00"),
        ("2025-09-29 19:00", "1wd", "2025-09-30 18:00"),  # after hours: same rule
        ("2025-09-30 15:00", "1wd", "2025-10-09 18:00"),  # across the whole holiday
        ("2025-09-30 15:00", "3wd", "2025-10-11 18:00"),  # lands on the 调休 Saturday
        ("2025-09-30 15:00", "7wd", "2025-10-16 18:00"),
        ("2025-10-03 11:00", "1wd", "2025-10-09 18:00"),  # received during the holiday
        # 2026 Spring Festival
        ("2026-02-13 10:00", "1wd", "2026-02-14 18:00"),
        ("2026-02-13 10:00", "2wd", "2026-02-24 18:00"),
        ("2026-02-14 10:00", "1wd", "2026-02-24 18:00"),  # received on the 调休 Saturday
        ("2026-02-13 10:00", "6wd", "2026-02-28 18:00"),  # the second 调休 Saturday
        ("2026-02-13 10:00", "7wd", "2026-03-02 18:00"),
        # The Friday before National Day 2026 (itself Mid-Autumn) and the last workday before
        ("2026-09-25 09:00", "2wd", "2026-09-29 18:00"),
        ("2026-09-25 09:00", "4wd", "2026-10-08 18:00"),
        ("2026-09-25 09:00", "7wd", "2026-10-12 18:00"),
        ("2026-09-30 10:00", "2wd", "2026-10-09 18:00"),
        ("2026-09-30 10:00", "7wd", "2026-10-15 18:00"),
        # Working hours: 09:00–12:00 and 13:30–18:00
        ("2025-09-30 10:30", "4wh", "2025-09-30 16:00"),  # over the lunch break
        ("2025-09-30 07:00", "3wh", "2025-09-30 12:00"),  # before opening; ends at a close
        ("2025-09-30 12:30", "1wh", "2025-09-30 14:30"),  # during lunch
        ("2025-09-30 16:00", "4wh", "2025-10-09 11:00"),  # across the holiday
        ("2025-10-11 17:00", "2wh", "2025-10-13 10:00"),  # from the 调休 Saturday
        # Clock time ignores holidays
        ("2025-09-30 20:00", "24h", "2025-10-01 20:00"),
        ("2026-02-16 23:50", "30m", "2026-02-17 00:20"),
    ],
)
def test_deadlines_across_real_holidays(
    catalogue: Catalogue, received: str, duration: str, deadline: str
) -> None:
    found, assumed = work_calendar(catalogue).add(at(received), duration)
    assert found == at(deadline)
    assert found.tzinfo == SHANGHAI
    assert assumed is False


def test_a_deadline_reaching_into_an_unknown_year_assumes_monday_to_friday(
    catalogue: Catalogue,
) -> None:
    # Thu 24 Dec 2026 + 7wd: 25, 28, 29, 30, 31 Dec, then Fri 1 Jan 2027 (really New Year's
    # Day, but 2027 is unknown) and Mon 4 Jan.
    found, assumed = work_calendar(catalogue).add(at("2026-12-24 10:00"), "7wd")
    assert (found, assumed) == (at("2027-01-04 18:00"), True)
    deadlines = deadlines_for(catalogue, "road.pothole", "normal", at("2026-12-24 10:00"))
    assert deadlines.reply_by == at("2027-01-04 18:00") and deadlines.calendar_assumed


def test_catalogue_overrides_settle_an_unknown_year() -> None:
    catalogue = catalogue_with(extra_holidays=["2027-01-01"])
    found, assumed = work_calendar(catalogue).add(at("2026-12-24 10:00"), "7wd")
    assert (found, assumed) == (at("2027-01-05 18:00"), False)


def test_catalogue_overrides_win_over_chinese_calendar() -> None:
    # A typhoon closes offices on Thu 9 Oct 2025; Sunday 12 Oct is worked to catch up.
    catalogue = catalogue_with(extra_holidays=["2025-10-09"], extra_workdays=["2025-10-12"])
    calendar = work_calendar(catalogue)
    assert calendar.add(at("2025-09-30 15:00"), "1wd") == (at("2025-10-10 18:00"), False)
    assert calendar.add(at("2025-09-30 15:00"), "3wd") == (at("2025-10-12 18:00"), False)


def test_work_hours_are_a_catalogue_option() -> None:
    catalogue = catalogue_with(work_hours=[["08:30", "17:00"]])
    calendar = work_calendar(catalogue)
    assert calendar.add(at("2025-09-29 10:00"), "1wd")[0] == at("2025-09-30 17:00")
    assert calendar.add(at("2025-09-29 16:00"), "2wh")[0] == at("2025-09-30 09:30")


def test_a_start_in_another_timezone_counts_days_in_the_catalogues() -> None:
    calendar = work_calendar(catalogue_with())
    # 23:30 UTC on Mon 29 Sep is already Tue 30 Sep in Shanghai: 1wd is after the holiday.
    received = datetime(2025, 9, 29, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert calendar.add(received, "1wd")[0] == at("2025-10-09 18:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add(datetime(2025, 9, 29, 10, 0), "1wd")


def test_deadlines_for_a_task_use_the_category_policy(catalogue: Catalogue) -> None:
    deadlines = deadlines_for(catalogue, "road.pothole", "normal", at("2025-09-30 15:00"))
    assert deadlines.policy == "general"
    assert deadlines.sign_by == at("2025-10-01 15:00")  # 24h is clock time
    assert deadlines.contact_by == at("2025-10-10 18:00")
    assert deadlines.reply_by == at("2025-10-16 18:00")
    assert (deadlines.warn_at, deadlines.max_extension) == (0.8, "15wd")
    assert deadlines.calendar_assumed is False
    version = metadata.version("chinese-calendar")
    assert deadlines.calendar_version.startswith(f"chinese-calendar {version}+")


def test_an_emergency_takes_the_stricter_policy(catalogue: Catalogue) -> None:
    deadlines = deadlines_for(catalogue, "road.pothole", "emergency", at("2025-10-02 03:00"))
    assert deadlines.policy == "emergency"
    assert deadlines.sign_by == at("2025-10-02 03:30")
    assert deadlines.reply_by == at("2025-10-02 05:00")
    utility = deadlines_for(catalogue, "water.outage", "urgent", at("2025-10-02 03:00"))
    assert (utility.policy, utility.reply_by) == ("utility", at("2025-10-03 03:00"))


def test_deadlines_for_an_unknown_category_say_what_to_do(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownCategory, match="recategorise"):
        deadlines_for(catalogue, "alien.landing", "normal", at("2025-10-02 03:00"))


def test_the_calendar_version_changes_with_the_overrides() -> None:
    plain = work_calendar(catalogue_with()).version
    assert work_calendar(catalogue_with()).version == plain
    assert work_calendar(catalogue_with(extra_holidays=["2027-01-01"])).version != plain


def test_the_yellow_warning_falls_at_a_fraction_of_the_clock_time() -> None:
    start, deadline = at("2025-09-30 10:00"), at("2025-09-30 20:00")
    assert warning_time(start, deadline, 0.8) == at("2025-09-30 18:00")
    assert warning_time(start, deadline, 0.5) == start + timedelta(hours=5)


@pytest.mark.parametrize(
    ("requested", "allowed"),
    [
        ("2025-11-06 18:00", True),  # exactly 15 working days after the original
        ("2025-10-20 18:00", True),
        ("2025-11-07 09:00", False),  # past the cap
        ("2025-10-16 18:00", False),  # not later than the original
        ("2025-10-10 18:00", False),
    ],
)
def test_extensions_are_capped_by_max_extension(
    catalogue: Catalogue, requested: str, allowed: bool
) -> None:
    verdict = extension_allowed(catalogue, "general", at("2025-10-16 18:00"), at(requested))
    assert bool(verdict) is allowed
    assert verdict.latest_reply_by == at("2025-11-06 18:00")
    if not allowed:
        assert verdict.reason


def test_a_policy_without_max_extension_allows_none(catalogue: Catalogue) -> None:
    verdict = extension_allowed(
        catalogue, "utility", at("2025-10-16 18:00"), at("2025-10-17 18:00")
    )
    assert not verdict and "no extension" in verdict.reason


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    latest_reply_by: datetime

    def __bool__(self) -> bool:
        return self.allowed


def extension_allowed(
    catalogue: Catalogue, policy: str, original_reply_by: datetime, requested_reply_by: datetime
) -> Verdict:
    """The live rule: the cap ``latest_reply_by`` derives from the task's policy, checked by
    the domain's extension guards on a signed task whose reply is due ``original_reply_by``."""
    cap = catalogue.sla[policy].max_extension
    task = assignment(
        policy=policy,
        max_extension=str(cap) if cap else None,
        deadlines=Deadlines(
            sign_by=original_reply_by - timedelta(days=9),
            contact_by=original_reply_by - timedelta(days=5),
            reply_by=original_reply_by,
        ),
    )
    dispatched_at = original_reply_by - timedelta(days=10)
    state = given(received(), *task_history(TaskStatus.SIGNED, task), start=dispatched_at)
    latest = latest_reply_by(state.tasks[task.task_id], work_calendar(catalogue))
    command = cmd.RequestExtension(
        task_id=task.task_id,
        reply_by=requested_reply_by,
        reason="需协调施工",
        latest_allowed=latest,
    )
    try:
        decide(state, command, dispatched_at + timedelta(days=1))
    except DomainError as refusal:
        return Verdict(allowed=False, reason=str(refusal), latest_reply_by=latest)
    return Verdict(allowed=True, reason="within max_extension", latest_reply_by=latest)
