"""The demo's patrols (三巡一查零报告): every grid's rounds for the month, mostly zero reports
made a while before each round's time, and a few rounds missed — raised as the scheduler's
timer scan would, at their time.

Findings are left to the arrivals (a patrol case there is filed by the street office), so the
patrol reports here add no cases: the month's case mix stays what ``scenario`` draws.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue, Grid, PatrolRound
from dispatch.demo.agenda import Agenda, cast
from dispatch.handlers import Issuer
from dispatch.handlers.patrols import (
    PatrolReport,
    new_report_id,
    patrol_missed_raised,
    report_patrol,
)

MISS_RATE = 0.02  # about two rounds in a hundred go unreported
NOTES = ("巡查无异常", "已巡查，无新增问题", "商户门前三包落实", "背街小巷已巡一遍")


def grid_worker(grid: str) -> str:
    return f"{grid.lower()}-grid"


def schedule_patrols(
    container: Container,
    agenda: Agenda,
    catalogue: Catalogue,
    rng: random.Random,
    start: datetime,
    end: datetime,
) -> None:
    zone = catalogue.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        for grid in catalogue.grids:
            for round_ in catalogue.patrol.rounds:
                due = round_.due_at(day, zone)
                if rng.random() < MISS_RATE:
                    agenda.at(
                        due + timedelta(minutes=1), _missed, container, grid, day, round_, due
                    )
                else:
                    early = timedelta(minutes=rng.randrange(20, 150))
                    agenda.at(due - early, _report, container, grid, round_, rng.choice(NOTES))


def _report(container: Container, grid: Grid, round_: PatrolRound, note: str) -> None:
    worker = cast("grid", grid_worker(grid.code), grid=grid.code)
    report = PatrolReport(grid=grid.code, round=round_.name, note=note)
    report_patrol(container.handling, new_report_id(), report, Issuer(actor=worker, role="grid"))


def _missed(
    container: Container, grid: Grid, day: date, round_: PatrolRound, due: datetime
) -> None:
    patrol_missed_raised(container.handling, grid, day, round_, due)
