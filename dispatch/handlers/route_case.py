"""The router: a new case → catalogue rules → CaseDispatched tasks, or CaseUnroutable.

The relay's ``route_case`` job calls this; it is idempotent because its command id is derived
from the case alone (``route:<case_id>``), so a job run twice appends once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.catalogue import route
from dispatch.domain.case import CaseState
from dispatch.domain.commands import DispatchCase, MarkUnroutable
from dispatch.domain.events import RoutingCandidate, TaskRole
from dispatch.handlers.actor import SYSTEM
from dispatch.handlers.assignments import assign
from dispatch.handlers.errors import CaseNotFound
from dispatch.handlers.executor import CommandResult, execute, folded, load_case
from dispatch.handlers.handling import CatalogueSource, Handling, Issuer
from events import RecordedEvent


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


def route_case(
    deps: Handling,
    case_id: str,
    command: RouteCase,
    issuer: Issuer,
    *,
    loaded: tuple[CaseState, int] | None = None,
) -> CommandResult:
    """Nothing to do (no events) when the case is already routed or marked unroutable.
    ``loaded``: the case as the caller just read it (a batch's cases are read together)."""
    state, version = loaded or load_case(deps.log, case_id)
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


def routed_tasks(
    deps: Handling, case_id: str, history: Sequence[RecordedEvent] | None = None
) -> list[str]:
    """Route the case if it still needs it: its task ids (none for an unknown case).
    ``history``: its stream, if the caller has read it already."""
    issuer = Issuer(actor=SYSTEM, role="system", command_id=f"route:{case_id}")
    try:
        loaded = folded(case_id, history) if history else None
        return list(route_case(deps, case_id, RouteCase(), issuer, loaded=loaded).state.tasks)
    except CaseNotFound:
        return []
