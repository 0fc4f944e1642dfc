"""The router: a new case → catalogue rules → CaseDispatched tasks, or CaseUnroutable.

The relay's ``route_case`` job calls this; it is idempotent because its command id is derived
from the case alone (``route:<case_id>``), so a job run twice appends once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dispatch.catalogue import route
from dispatch.domain.case import CaseState, decide, evolve
from dispatch.domain.commands import DispatchCase, MarkUnroutable
from dispatch.domain.events import RoutingCandidate, TaskRole
from dispatch.handlers.actor import SYSTEM
from dispatch.handlers.assignments import assign
from dispatch.handlers.errors import CaseNotFound
from dispatch.handlers.executor import CommandResult, execute, folded, load_case, meta_for
from dispatch.handlers.handling import CatalogueSource, Handling, Issuer
from events import AppendResult, Event, RecordedEvent, StreamAppend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouteCase:
    """分拨: send a new case where the catalogue's rules say (the router job's command)."""


def routing_command(
    state: CaseState, catalogue_source: CatalogueSource, now: datetime
) -> DispatchCase | MarkUnroutable:
    active = catalogue_source()
    if active is None:
        return MarkUnroutable(reason="no catalogue is loaded", catalogue_version=None)
    number, catalogue = active
    decision = route(catalogue, state.category, state.location.grid, state.location.street)
    # Why it went there, or why nowhere: every rule weighed, matched or not, kept in each
    # CaseDispatched and in CaseUnroutable.
    candidates = [
        RoutingCandidate(rule_id=c.id, matched=c.matched, reason=c.reason)
        for c in decision.candidates
    ]
    if decision.lead is None:
        return MarkUnroutable(
            reason=decision.reason, catalogue_version=number, candidates=tuple(candidates)
        )
    departments: list[tuple[str, TaskRole]] = [(decision.lead, "lead")]
    departments += [(code, "assist") for code in decision.assist]
    assignments = assign(
        catalogue,
        number,
        state,
        departments,
        now=now,
        rule_id=decision.rule_id,
        candidates=candidates,
    )
    return DispatchCase(assignments=assignments)


def needs_routing(state: CaseState) -> bool:
    return state.status == "received" and not state.tasks and not state.unroutable


def route_case(deps: Handling, case_id: str, command: RouteCase, issuer: Issuer) -> CommandResult:
    """Nothing to do (no events) when the case is already routed or marked unroutable."""
    state, version = load_case(deps.log, case_id)
    if not needs_routing(state):
        return CommandResult(case_id, version, [], state)
    return execute(
        deps,
        case_id,
        lambda current, now: (
            routing_command(current, deps.catalogue_source, now) if needs_routing(current) else None
        ),
        issuer,
        loaded=(state, version),
    )


def routing_issuer(case_id: str, correlation_id: str | None = None) -> Issuer:
    """The router, under a command id derived from the case alone: routing is idempotent."""
    return Issuer(
        actor=SYSTEM, role="system", command_id=f"route:{case_id}", correlation_id=correlation_id
    )


def routed_tasks(deps: Handling, case_id: str) -> list[str]:
    """Route the case if it still needs it: its task ids (none for an unknown case)."""
    try:
        return list(route_case(deps, case_id, RouteCase(), routing_issuer(case_id)).state.tasks)
    except CaseNotFound:
        return []


class BatchLog(Protocol):
    """The call ``route_together`` makes on the log (``events.EventStore`` has it)."""

    def append_many(
        self, appends: Sequence[StreamAppend], *, now: datetime | None = None
    ) -> list[AppendResult]: ...


def route_together(
    deps: Handling,
    log_: BatchLog,
    histories: Mapping[str, Sequence[RecordedEvent]],
    correlation_ids: Mapping[str, str | None],
) -> dict[str, list[str]]:
    """Route a batch's cases (their streams read already) in one append: one transaction
    for the batch instead of one per case. Each case's events carry its own command id
    (``route:<case id>``) and correlation id, as ``routed_tasks`` would give them.

    Returns the tasks of every case it settled: routed now, found routed already, or unknown
    (no tasks). A case whose decision raised is left out, for the caller to route alone and
    report; ``ConcurrencyError`` when any case moved meanwhile (nothing appended).
    """
    now = deps.clock()
    settled: dict[str, list[str]] = {}
    planned: list[tuple[CaseState, StreamAppend]] = []
    for case_id, history in histories.items():
        if not history:
            settled[case_id] = []  # not in the log (yet): as routed_tasks answers
            continue
        try:
            state, version = folded(case_id, history)
            if not needs_routing(state):
                settled[case_id] = list(state.tasks)
                continue
            new_events: list[Event] = list(
                decide(state, routing_command(state, deps.catalogue_source, now), now)
            )
        except Exception:  # routed alone below, where its failure is reported
            log.debug("case %s is left to be routed alone", case_id, exc_info=True)
            continue
        issuer = routing_issuer(case_id, correlation_ids.get(case_id))
        meta = meta_for(issuer, str(issuer.command_id))
        planned.append((state, StreamAppend(case_id, new_events, version, meta)))
    if not planned:
        return settled
    results = log_.append_many([asked for _, asked in planned], now=now)
    for (state, asked), result in zip(planned, results, strict=True):
        if result.duplicate:  # routed by someone else since our read: theirs stands
            state, _ = load_case(deps.log, asked.stream_id)
        else:
            for event in asked.events:
                state = evolve(state, event, now)
        settled[asked.stream_id] = list(state.tasks)
    return settled
