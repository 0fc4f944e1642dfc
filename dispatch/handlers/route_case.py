"""The router: a new case → catalogue rules → CaseDispatched tasks, or CaseUnroutable.

The relay's ``route_case`` job calls this; it is idempotent because its command id is derived
from the case alone (``route:<case_id>``), so a job run twice appends once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatch.catalogue import route
from dispatch.domain.case import CaseState
from dispatch.domain.commands import DispatchCase, MarkUnroutable
from dispatch.handlers.actor import SYSTEM
from dispatch.handlers.assignments import assign
from dispatch.handlers.errors import CaseNotFound
from dispatch.handlers.executor import CommandResult, execute, load_case
from dispatch.handlers.intake import CatalogueSource
from events import EventStore


def routing_command(
    state: CaseState, catalogue_source: CatalogueSource, now: datetime
) -> DispatchCase | MarkUnroutable:
    active = catalogue_source()
    if active is None:
        return MarkUnroutable(reason="no catalogue is loaded", catalogue_version=None)
    number, catalogue = active
    decision = route(catalogue, state.category, state.location.grid, state.location.street)
    if decision.lead is None:
        return MarkUnroutable(reason=decision.reason, catalogue_version=number)
    departments = [(decision.lead, "lead")] + [(code, "assist") for code in decision.assist]
    assignments = assign(catalogue, number, state, departments, now=now, rule_id=decision.rule_id)
    return DispatchCase(assignments=assignments)


def needs_routing(state: CaseState) -> bool:
    return state.status == "received" and not state.tasks and not state.unroutable


def route_case(
    *,
    store: EventStore,
    clock: Callable[[], datetime],
    catalogue_source: CatalogueSource,
    case_id: str,
) -> list[str]:
    try:
        state, version = load_case(store, case_id)
    except CaseNotFound:
        return []
    if needs_routing(state):
        now = clock()
        result: CommandResult = execute(
            store=store,
            clock=lambda: now,
            case_id=case_id,
            command=lambda current: (
                routing_command(current, catalogue_source, now) if needs_routing(current) else None
            ),
            actor=SYSTEM,
            role="system",
            command_id=f"route:{case_id}",
            loaded=(state, version),
        )
        state = result.state
    return list(state.tasks)
