"""Every handler's one shape: load the case stream → fold → decide → append → return.

A ``ConcurrencyError`` (an SLA warning or another user landing on the case between our read
and our append) is not the client's problem: reload and decide again, a few times, and only
then give up with ``CaseBusy`` (409). The client sees 409 also when the command is no longer
legal after the reload (a DomainError), and 412 only when its own ``If-Match`` was already
stale when the request arrived.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.correlation import current_correlation_id
from dispatch.domain.case import CaseState, decide, evolve, fold
from dispatch.domain.commands import Command, ReceiveCase
from dispatch.domain.events import registry
from dispatch.handlers.errors import CaseBusy, CaseNotFound, StaleVersion
from dispatch.handlers.handling import EventLog, Handling, Issuer
from events import AppendResult, ConcurrencyError, Event, Meta, RecordedEvent

RETRIES = 5

# The domain command for the case as just folded, at ``now``; None when nothing is left to do
# (the router finds the case already routed, say). Building it from the fresh state lets a
# command depend on it: an extension's cap, a reopen's departments.
Build = Callable[[CaseState, datetime], Command | None]
# Runs on the freshly folded state before building (e.g. "the liaison's own department holds
# this task"); raises NotInScope or TaskNotFound.
ScopeCheck = Callable[[CaseState], None]
# Writes the first events of a new case, with whatever must commit beside them.
FirstAppend = Callable[[Sequence[Event], Meta, datetime], AppendResult]


@dataclass(frozen=True)
class CommandResult:
    case_id: str
    version: int
    events: list[Event]
    state: CaseState
    duplicate: bool = False


def new_command_id() -> str:
    return "cmd_" + uuid.uuid4().hex


def meta_for(issuer: Issuer, command_id: str) -> Meta:
    actor = issuer.actor
    return Meta(
        actor=actor.username,
        role=issuer.role,
        command_id=command_id,
        # The request's (or the job's) id unless the issuer names one: what it set in motion.
        correlation_id=issuer.correlation_id or current_correlation_id(),
        extra={"department": actor.department} if actor.department else {},
    )


def load_case(log: EventLog, case_id: str) -> tuple[CaseState, int]:
    return folded(case_id, log.read_stream(case_id))


def folded(case_id: str, history: Sequence[RecordedEvent]) -> tuple[CaseState, int]:
    """The case as its stream (read already) says, and its version."""
    if not history:
        raise CaseNotFound(f"no case with id {case_id!r}")
    state = fold(
        ((registry.decode(recorded), recorded.recorded_at) for recorded in history),
        case_id=case_id,
    )
    assert state is not None
    return state, history[-1].version


def execute(
    deps: Handling,
    case_id: str,
    build: Build,
    issuer: Issuer,
    *,
    scope: ScopeCheck | None = None,
    loaded: tuple[CaseState, int] | None = None,
) -> CommandResult:
    """Load, decide, append; on a lost race, load again and decide again.

    ``loaded`` is the case as the caller just read it (state, version), spared a second read
    on the first attempt; a stale one only costs a retry.
    """
    meta = meta_for(issuer, issuer.command_id or new_command_id())
    version = loaded[1] if loaded is not None else 0
    case_no: str | None = None
    for attempt in range(RETRIES):
        if attempt == 0 and loaded is not None:
            state, version = loaded
        else:
            state, version = load_case(deps.log, case_id)
        case_no = state.case_no
        if scope is not None:
            scope(state)  # first: someone out of scope learns nothing, not even the version
        if attempt == 0 and issuer.if_match is not None and issuer.if_match != version:
            raise StaleVersion(issuer.if_match, version, case_no=state.case_no)
        now = deps.clock()
        command = build(state, now)
        if command is None:
            return CommandResult(case_id, version, [], state)
        new_events = decide(state, command, now)
        if not new_events:
            return CommandResult(case_id, version, [], state)
        try:
            result = deps.log.append(
                case_id, new_events, expected_version=version, meta=meta, now=now
            )
        except ConcurrencyError:
            continue
        if result.duplicate:
            return replayed(deps, case_id)
        for event in new_events:
            state = evolve(state, event, now)
        return CommandResult(case_id, result.last_version, list(new_events), state)
    raise CaseBusy(case_id, version, RETRIES, case_no=case_no)


def execute_first(
    case_id: str, command: ReceiveCase, meta: Meta, now: datetime, append: FirstAppend
) -> CommandResult:
    """A new case: decide on no history, append at version 0 (no race to lose: the id is new)."""
    new_events = decide(None, command, now)
    result = append(new_events, meta, now)
    state = fold([(event, now) for event in new_events], case_id=case_id)
    assert state is not None
    return CommandResult(case_id, result.last_version, list(new_events), state)


def replayed(deps: Handling, case_id: str) -> CommandResult:
    """The answer to a command already carried out: the case as it is, nothing appended."""
    state, version = load_case(deps.log, case_id)
    return CommandResult(case_id, version, [], state, duplicate=True)
