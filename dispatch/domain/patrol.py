"""巡查 (三巡一查零报告): a grid's patrol day as a stream of its own, and the rules on it.

One stream per grid and local day, ``patrol-<grid>-<yyyymmdd>``: ``PatrolReported`` once per
round, ``PatrolReportMissed`` once per round whose time passed without a report. The clock is
an argument; nothing here reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from dispatch.domain.events import PatrolReported, PatrolReportMissed
from events import Event

STREAM_PREFIX = "patrol-"


def patrol_stream(grid: str, day: date) -> str:
    return f"{STREAM_PREFIX}{grid}-{day:%Y%m%d}"


def is_patrol_stream(stream_id: str) -> bool:
    return stream_id.startswith(STREAM_PREFIX)


@dataclass(frozen=True)
class PatrolDay:
    """What a grid's day holds so far: the rounds reported and the rounds raised as missed."""

    reported: dict[str, PatrolReported] = field(default_factory=dict)
    missed: frozenset[str] = frozenset()


def fold_patrol_day(history: Iterable[Event]) -> PatrolDay:
    reported: dict[str, PatrolReported] = {}
    missed: set[str] = set()
    for event in history:
        if isinstance(event, PatrolReported):
            reported.setdefault(event.round, event)
        elif isinstance(event, PatrolReportMissed):
            missed.add(event.round)
    return PatrolDay(reported, frozenset(missed))


def is_reported(day: PatrolDay, round_name: str) -> bool:
    return round_name in day.reported


def decide_report(day: PatrolDay, report: PatrolReported) -> list[Event]:
    """A round is reported once; a second report of it decides nothing (the handler refuses).
    A report after the round was raised as missed is still recorded: late, not absent."""
    return [] if is_reported(day, report.round) else [report]


def decide_missed(day: PatrolDay, missed: PatrolReportMissed, now: datetime) -> list[Event]:
    """漏巡 once per round, and only once its time has passed with no report."""
    if now < missed.due_at or is_reported(day, missed.round) or missed.round in day.missed:
        return []
    return [missed]
