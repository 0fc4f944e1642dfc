"""巡查上报 (三巡一查零报告, DESIGN §8.7): a grid's round reported, and a missed one raised.

A report's findings each become a case through intake (``receive_complaint``, channel
``patrol``), so placement, routing and the reporter's scope apply as to any case; then
``PatrolReported`` names them in the grid's day stream. Everything a report can be refused
for is checked before the first case is written, so a refused report leaves nothing behind.
Only a report racing another report of the same round can lose after its cases exist; the
cases stay (they are real problems found on the street) and the loser is told 409.

``patrol_missed_raised`` is the timer scan's call: ``PatrolReportMissed`` appended with the
stream's ``expected_version`` and a command id fixed by grid, day and round, so two
schedulers, or one restarted, raise it once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from dispatch.catalogue import Catalogue, Grid, PatrolRound
from dispatch.domain.commands import AddAttachment
from dispatch.domain.events import PatrolReported, PatrolReportMissed, registry
from dispatch.domain.patrol import (
    PatrolDay,
    decide_missed,
    decide_report,
    fold_patrol_day,
    is_reported,
    patrol_stream,
)
from dispatch.handlers.actor import SYSTEM
from dispatch.handlers.errors import ApplicationError, InvalidInput, NotInScope
from dispatch.handlers.executor import CommandResult, meta_for
from dispatch.handlers.handling import EventLog, Handling, Issuer
from dispatch.handlers.intake import Complaint, new_case_id, place_complaint, receive_complaint
from events import ConcurrencyError, Event

RETRIES = 5


@dataclass(frozen=True)
class Finding:
    """One problem the patrol found; it becomes a case in the patrol's grid."""

    category: str
    description: str
    urgency: str = "normal"
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    grid: str | None = None  # defaults to the patrol's grid; another grid is refused
    attachments: tuple[AddAttachment, ...] = ()  # intake photos, stored already (store_upload)


@dataclass(frozen=True)
class PatrolReport:
    grid: str
    round: str
    findings: tuple[Finding, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class PatrolResult:
    id: str
    grid: str
    date: date
    round: str
    zero: bool
    cases: tuple[CommandResult, ...]  # intake's results, one per finding


class PatrolRoundReported(ApplicationError):
    """The grid's round was reported already today: one report per grid and round."""

    status = 409
    code = "patrol_round_already_reported"


class PatrolBusy(ApplicationError):
    status = 409
    code = "busy"


def report_patrol(
    deps: Handling, report_id: str, command: PatrolReport, issuer: Issuer
) -> PatrolResult:
    """巡查上报 ``report_id`` (``new_report_id()``): a zero report (零报告) when there are no
    findings, else one case per finding."""
    _number, catalogue = deps.catalogue()
    grid = _known_grid(catalogue, command.grid)
    check_may_report(issuer, grid)
    round_ = _known_round(catalogue, command.round)
    # The body is judged whole (422) before the day's state (409), and both before any write.
    complaints = [_complaint(catalogue, grid, i, f) for i, f in enumerate(command.findings)]
    now = deps.clock()
    day = now.astimezone(catalogue.zone).date()
    stream = patrol_stream(grid.code, day)
    patrol_day, version = load_patrol_day(deps.log, stream)
    if is_reported(patrol_day, round_.name):
        raise _already_reported(grid, round_)
    filed = [_file(deps, complaint, issuer) for complaint in complaints]
    event = PatrolReported(
        report_id=report_id,
        grid=grid.code,
        street=grid.street,
        date=day,
        round=round_.name,
        due_at=round_.due_at(day, catalogue.zone),
        zero=not filed,
        findings=[case.case_id for case in filed],
        note=command.note,
        by=issuer.actor.username,
    )
    meta = meta_for(issuer, f"patrol:{report_id}")
    for _attempt in range(RETRIES):
        new_events = decide_report(patrol_day, event)
        if not new_events:
            raise _already_reported(grid, round_)
        try:
            deps.log.append(stream, new_events, expected_version=version, meta=meta, now=now)
        except ConcurrencyError:
            patrol_day, version = load_patrol_day(deps.log, stream)
            continue
        return PatrolResult(report_id, grid.code, day, round_.name, not filed, tuple(filed))
    raise PatrolBusy(f"the patrol day {stream} is busy; send the report again")


def new_report_id() -> str:
    return uuid.uuid4().hex


def check_may_report(issuer: Issuer, grid: Grid) -> None:
    """A grid worker reports for its own grid; a street officer for any grid of its street."""
    actor = issuer.actor
    if issuer.role == "grid" and actor.grid != grid.code:
        raise NotInScope(
            f"the grid worker of {actor.grid} reports patrols of that grid only, not {grid.code}",
            code="outside_own_grid",
            facts={"grid": grid.code},
        )
    if issuer.role == "street" and actor.street != grid.street:
        raise NotInScope(
            f"street officers of {actor.street} report for their own street's grids only",
            code="outside_own_street",
            facts={"grid": grid.code},
        )


def patrol_missed_raised(
    deps: Handling, grid: Grid, day: date, round_: PatrolRound, due_at: datetime
) -> bool:
    """The timer scan's call: was ``PatrolReportMissed`` raised now (not before, not reported)?"""
    stream = patrol_stream(grid.code, day)
    key = f"patrol-missed:{grid.code}:{day.isoformat()}:{round_.name}"
    meta = meta_for(Issuer(actor=SYSTEM, role="system"), key)
    missed = PatrolReportMissed(
        grid=grid.code, street=grid.street, date=day, round=round_.name, due_at=due_at
    )
    for _attempt in range(RETRIES):
        patrol_day, version = load_patrol_day(deps.log, stream)
        now = deps.clock()
        new_events = decide_missed(patrol_day, missed, now)
        if not new_events:
            return False
        try:
            result = deps.log.append(
                stream, new_events, expected_version=version, meta=meta, now=now
            )
        except ConcurrencyError:
            continue  # another scheduler, or a report, landed first: decide again
        return not result.duplicate
    return False  # still contended: the next scan asks again


def load_patrol_day(log: EventLog, stream: str) -> tuple[PatrolDay, int]:
    history = log.read_stream(stream)
    events: list[Event] = [registry.decode(recorded) for recorded in history]
    return fold_patrol_day(events), (history[-1].version if history else 0)


def _known_grid(catalogue: Catalogue, code: str) -> Grid:
    grid = catalogue.grid(code)
    if grid is None:
        raise InvalidInput(
            "grid", f"unknown grid {code!r}", code="unknown_grid", facts={"grid": code}
        )
    return grid


def _known_round(catalogue: Catalogue, name: str) -> PatrolRound:
    found = catalogue.patrol.round(name)
    if found is None:
        rounds = ", ".join(r.name for r in catalogue.patrol.rounds) or "none configured"
        raise InvalidInput(
            "round",
            f"unknown patrol round {name!r}; the rounds are: {rounds}",
            code="unknown_patrol_round",
            facts={"round": name},
        )
    return found


def _already_reported(grid: Grid, round_: PatrolRound) -> PatrolRoundReported:
    return PatrolRoundReported(
        f"grid {grid.code} reported its {round_.name} round already today",
        facts={"grid": grid.code, "round": round_.name},
    )


def _complaint(catalogue: Catalogue, grid: Grid, index: int, finding: Finding) -> Complaint:
    """The finding as intake takes it, refused here (before any case exists) when it names an
    unknown category or lies outside the patrol's grid."""
    field = f"findings.{index}"
    if catalogue.category(finding.category) is None:
        raise InvalidInput(
            f"{field}.category",
            f"unknown category {finding.category!r}",
            code="unknown_category",
            facts={"category": finding.category},
        )
    complaint = Complaint(
        channel="patrol",
        category=finding.category,
        description=finding.description,
        urgency=finding.urgency,
        address=finding.address,
        lat=finding.lat,
        lon=finding.lon,
        grid=finding.grid or grid.code,
        attachments=finding.attachments,
    )
    if complaint.grid != grid.code:
        raise InvalidInput(
            f"{field}.location.grid",
            f"a finding of grid {grid.code}'s patrol lies in that grid, not {complaint.grid}",
            code="finding_outside_patrol_grid",
            facts={"grid": grid.code},
        )
    place_complaint(catalogue, complaint)  # an unknown grid is refused here too
    return complaint


def _file(deps: Handling, complaint: Complaint, issuer: Issuer) -> CommandResult:
    filer = Issuer(actor=issuer.actor, role=issuer.role, correlation_id=issuer.correlation_id)
    return receive_complaint(deps, new_case_id(), complaint, filer)
