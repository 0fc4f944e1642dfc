"""Every handler's one shape: load the case stream → fold → decide → append → return.

A ``ConcurrencyError`` (an SLA warning or another user landing on the case between our read
and our append) is not the client's problem: reload and decide again, a few times. The
client sees 409 only when the command is no longer legal after the reload (a DomainError),
and 412 only when its own ``If-Match`` was already stale when the request arrived.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dispatch.domain.case import CaseState, decide, evolve, fold
from dispatch.domain.events import registry
from dispatch.handlers.actor import Actor
from dispatch.handlers.errors import CaseNotFound, StaleVersion
from events import ConcurrencyError, Event, EventStore, Meta

RETRIES = 5

# A scope check runs on the freshly folded state before deciding (e.g. "the liaison's own
# department holds this task"); it raises NotInScope.
ScopeCheck = Callable[[CaseState], None]


@dataclass(frozen=True)
class CommandResult:
    case_id: str
    version: int
    events: list[Event]
    state: CaseState
    duplicate: bool = False


def new_command_id() -> str:
    return "cmd_" + uuid.uuid4().hex


def meta_for(actor: Actor, role: str, command_id: str, correlation_id: str | None) -> Meta:
    return Meta(
        actor=actor.username,
        role=role,
        command_id=command_id,
        correlation_id=correlation_id,
        extra={"department": actor.department} if actor.department else {},
    )


def load_case(store: EventStore, case_id: str) -> tuple[CaseState, int]:
    history = store.read_stream(case_id)
    if not history:
        raise CaseNotFound(f"no case with id {case_id!r}")
    state = fold(
        ((registry.decode(recorded), recorded.recorded_at) for recorded in history),
        case_id=case_id,
    )
    assert state is not None
    return state, history[-1].version


def execute(
    *,
    store: EventStore,
    clock: Callable[[], datetime],
    case_id: str,
    command: object | Callable[[CaseState], object | None],
    actor: Actor,
    role: str,
    command_id: str | None = None,
    if_match: int | None = None,
    scope: ScopeCheck | None = None,
    correlation_id: str | None = None,
    loaded: tuple[CaseState, int] | None = None,
) -> CommandResult:
    """Load, decide, append; on a lost race, load again and decide again.

    ``loaded`` is the case as the caller just read it (state, version), spared a second read
    on the first attempt; a stale one only costs a retry.
    """
    command_id = command_id or new_command_id()
    meta = meta_for(actor, role, command_id, correlation_id)
    for attempt in range(RETRIES):
        if attempt == 0 and loaded is not None:
            state, version = loaded
        else:
            state, version = load_case(store, case_id)
        if attempt == 0 and if_match is not None and if_match != version:
            raise StaleVersion(if_match, version)
        if scope is not None:
            scope(state)
        now = clock()
        # A command may depend on the state it acts on (an extension's cap, say).
        concrete = command(state) if callable(command) else command
        if concrete is None:  # the factory found nothing left to do
            return CommandResult(case_id, version, [], state)
        new_events = decide(state, concrete, now)
        if not new_events:
            return CommandResult(case_id, version, [], state)
        try:
            result = store.append(case_id, new_events, expected_version=version, meta=meta, now=now)
        except ConcurrencyError:
            continue
        if result.duplicate:
            state, version = load_case(store, case_id)
            return CommandResult(case_id, version, [], state, duplicate=True)
        for event in new_events:
            state = evolve(state, event, now)
        return CommandResult(case_id, result.last_version, list(new_events), state)
    raise ConcurrencyError(case_id, version, version + 1)
