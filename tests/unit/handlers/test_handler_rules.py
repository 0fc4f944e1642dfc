"""The handlers' rules, without I/O: given a case in a ``FakeLog`` → when a command → then the
events appended, or the refusal.

A case here is a pothole on 西一路 (grid XYL-01), received by an operator and routed by the
sample catalogue: task ``-1`` is the roads department's (lead), ``-2`` the street office's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import FakeLog, FixedClock, fake_handling, person

from dispatch.domain import commands as c
from dispatch.domain import events as ev
from dispatch.handlers import (
    SYSTEM,
    TASK_ACTIONS,
    ApplicationError,
    CaseBusy,
    Complaint,
    Handling,
    Issuer,
    NotInScope,
    Requested,
    StaleVersion,
    handle,
    new_case_id,
    routed_tasks,
)
from dispatch.handlers.bodies import Empty, NoteRequired
from dispatch.handlers.executor import RETRIES

OPERATOR = Issuer(actor=person("operator"), role="operator")
ROADS = Issuer(actor=person("liaison", department="roads"), role="liaison")
WATER = Issuer(actor=person("liaison", department="water"), role="liaison")
SIGN = TASK_ACTIONS["sign"]
PROGRESS = TASK_ACTIONS["progress"]


def pothole(grid: str = "XYL-01") -> Complaint:
    return Complaint(
        channel="phone",
        category="road.pothole",
        description="路面有坑",
        urgency="normal",
        grid=grid,
    )


def routed_case(deps: Handling) -> str:
    """A received and routed case: its id."""
    case_id = handle(deps, new_case_id(), pothole(), OPERATOR).case_id
    assert routed_tasks(deps, case_id) == [f"{case_id}-1", f"{case_id}-2"]
    return case_id


def sign_warning(task_id: str, level: str = "yellow") -> ev.SlaWarningRaised:
    return ev.SlaWarningRaised.model_validate(
        {"task_id": task_id, "stage": "sign", "level": level, "deadline": FixedClock().now}
    )


def test_a_sign_still_lands_after_an_sla_warning_wins_the_race() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)
    task_id = f"{case_id}-1"
    log.lose_next_race(with_events=[sign_warning(task_id)])

    result = handle(deps, task_id, Requested(SIGN, Empty()), ROADS)

    assert [e.type for e in result.events] == ["TaskSigned"]
    assert log.events(case_id)[-2:] == ["SlaWarningRaised", "TaskSigned"]
    assert result.version == len(log.events(case_id))
    assert result.state.tasks[task_id].state == "signed"


def test_a_command_that_keeps_losing_races_is_busy_not_a_crash() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)
    task_id = f"{case_id}-1"
    log.lose_next_race(with_events=[sign_warning(task_id)], times=RETRIES)

    with pytest.raises(CaseBusy) as busy:
        handle(deps, task_id, Requested(SIGN, Empty()), ROADS)

    assert isinstance(busy.value, ApplicationError) and busy.value.status == 409
    assert "busy" in str(busy.value) and "send it again" in str(busy.value)
    assert busy.value.code == "busy" and busy.value.facts["case_no"]
    assert "TaskSigned" not in log.events(case_id)


def test_another_departments_liaison_is_out_of_scope() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)
    task_id = f"{case_id}-1"
    before = log.events(case_id)

    with pytest.raises(NotInScope, match="only its own liaisons"):
        handle(deps, task_id, Requested(SIGN, Empty()), WATER)
    with pytest.raises(NotInScope, match="only its own liaisons"):
        handle(deps, task_id, c.SignTask(task_id=task_id), WATER)

    assert log.events(case_id) == before
    assert handle(deps, task_id, Requested(SIGN, Empty()), ROADS).events != []


def test_a_dispatcher_rules_on_any_departments_task() -> None:
    deps = fake_handling()
    case_id = routed_case(deps)
    task_id = f"{case_id}-1"
    handle(deps, task_id, Requested(SIGN, Empty()), ROADS)
    ask = TASK_ACTIONS["return"].body(reason="remit", basis="不属本部门职责")
    handle(deps, task_id, Requested(TASK_ACTIONS["return"], ask), ROADS)
    dispatcher = Issuer(actor=person("dispatcher"), role="dispatcher")

    ruling = TASK_ACTIONS["return/approve"]
    result = handle(deps, task_id, Requested(ruling, ruling.body()), dispatcher)

    assert [e.type for e in result.events] == ["TaskReturnApproved"]


def test_a_repeated_command_id_appends_nothing() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)
    task_id = f"{case_id}-1"
    handle(deps, task_id, Requested(SIGN, Empty()), ROADS)
    once = Issuer(actor=ROADS.actor, role="liaison", command_id="web:roads:form-1")
    note = Requested(PROGRESS, NoteRequired(note="已派人勘察"))

    first = handle(deps, task_id, note, once)
    again = handle(deps, task_id, note, once)

    assert [e.type for e in first.events] == ["ProgressNoted"]
    assert again.duplicate and again.events == []
    assert log.events(case_id).count("ProgressNoted") == 1
    assert again.version == first.version


def test_a_repeated_idempotency_key_files_one_case() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    keyed = Issuer(actor=OPERATOR.actor, role="operator", command_id="key-1")

    first = handle(deps, new_case_id(), pothole(), keyed)
    again = handle(deps, new_case_id(), pothole(), keyed)

    assert again.duplicate and again.case_id == first.case_id
    assert list(log.streams) == [first.case_id]


SYSTEM_URGE = Issuer(actor=SYSTEM, role="supervisor")


def issuer_at(version: int) -> Issuer:
    return Issuer(actor=ROADS.actor, role="liaison", if_match=version)


def test_a_stale_if_match_is_refused() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    case_id = routed_case(deps)
    task_id = f"{case_id}-1"
    seen = len(log.events(case_id))
    handle(deps, case_id, c.UrgeCase(level="reminder", note="请尽快签收"), SYSTEM_URGE)

    with pytest.raises(StaleVersion) as stale:
        handle(deps, task_id, Requested(SIGN, Empty()), issuer_at(seen))

    assert (stale.value.expected, stale.value.actual) == (seen, seen + 1)
    assert "TaskSigned" not in log.events(case_id)
    assert handle(deps, task_id, Requested(SIGN, Empty()), issuer_at(seen + 1)).events != []


def test_a_street_officer_files_only_in_their_own_street() -> None:
    log = FakeLog()
    deps = fake_handling(log)
    officer = Issuer(actor=person("street", street="CLZ"), role="street")

    with pytest.raises(NotInScope, match="report problems in their own street only"):
        handle(deps, new_case_id(), pothole("XYL-01"), officer)
    assert log.streams == {}

    own = handle(deps, new_case_id(), pothole("CLZ-01"), officer)
    assert own.state.location.street == "CLZ"
    operator = handle(deps, new_case_id(), pothole("XYL-01"), OPERATOR)
    assert operator.state.location.street == "XYL"


def test_an_sla_warning_is_raised_once() -> None:
    from dispatch.handlers import sla_warning_raised

    clock = FixedClock()
    deps = fake_handling(clock=clock)
    case_id = routed_case(deps)
    clock.now += timedelta(days=2)

    assert sla_warning_raised(deps, f"{case_id}-1", "sign", "red")
    assert not sla_warning_raised(deps, f"{case_id}-1", "sign", "red")
    assert not sla_warning_raised(deps, "no-such-case-1", "sign", "red")
