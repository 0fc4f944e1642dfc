"""SLA warnings (预警 yellow, 超期 red): once per (task, stage, level), while the stage runs."""

from __future__ import annotations

from datetime import date

import pytest
from builders import assignment, given, received, task_history, then_state, when

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import TaskStatus, UnknownTask
from dispatch.domain.events import Stage, WarningLevel

A = assignment()


def warn(stage: Stage, level: WarningLevel = "yellow") -> cmd.RaiseSlaWarning:
    return cmd.RaiseSlaWarning(task_id=A.task_id, stage=stage, level=level)


def test_an_unsigned_task_gets_a_sign_warning_with_its_deadline() -> None:
    state = given(received(), *task_history(TaskStatus.DISPATCHED, A))

    events = when(state, warn("sign", "red"))

    assert events == [
        ev.SlaWarningRaised(
            task_id=A.task_id, stage="sign", level="red", deadline=A.deadlines.sign_by
        )
    ]
    assert (A.task_id, "sign", "red") in then_state(state, events).warnings


def test_sla_warning_is_raised_once_per_stage_and_level() -> None:
    state = given(received(), *task_history(TaskStatus.DISPATCHED, A))
    state = then_state(state, when(state, warn("sign", "yellow")))

    assert when(state, warn("sign", "yellow")) == []
    assert when(state, warn("sign", "red")) != []
    assert when(state, warn("reply", "yellow")) != []


# Which stages still run in each task state: a warning for a finished stage is dropped.
STAGE_RUNS = {
    TaskStatus.DISPATCHED: {"sign", "contact", "reply"},
    TaskStatus.SIGNED: {"contact", "reply"},
    TaskStatus.CONTACTED: {"reply"},
    TaskStatus.RETURN_REQUESTED: set(),
    TaskStatus.RETURNED: set(),
    TaskStatus.REPLIED: set(),
    TaskStatus.CANCELLED: set(),
}


@pytest.mark.parametrize("status", list(TaskStatus), ids=str)
@pytest.mark.parametrize("stage", ["sign", "contact", "reply"])
def test_a_warning_is_raised_only_while_its_stage_runs(status: TaskStatus, stage: Stage) -> None:
    state = given(received(), *task_history(status, A))

    events = when(state, warn(stage))

    assert bool(events) == (stage in STAGE_RUNS[status])


def test_a_contact_warning_uses_the_contact_deadline() -> None:
    state = given(received(), *task_history(TaskStatus.SIGNED, A))

    [event] = when(state, warn("contact"))

    assert isinstance(event, ev.SlaWarningRaised)
    assert event.deadline == A.deadlines.contact_by


def test_the_reply_warning_follows_an_approved_extension() -> None:
    moved = A.deadlines.reply_by.replace(year=2027)
    state = given(
        received(),
        *task_history(TaskStatus.SIGNED, A),
        ev.ExtensionRequested(task_id=A.task_id, reply_by=moved, reason="r"),
        ev.ExtensionApproved(task_id=A.task_id, reply_by=moved),
    )

    [event] = when(state, warn("reply", "red"))

    assert isinstance(event, ev.SlaWarningRaised)
    assert event.deadline == moved


def test_a_parked_case_raises_no_warnings() -> None:
    state = given(
        received(),
        *task_history(TaskStatus.DISPATCHED, A),
        ev.CaseParked(plan="p", review_on=date(2026, 5, 1)),
    )

    assert when(state, warn("sign")) == []


def test_a_warning_for_an_unknown_task_is_refused() -> None:
    with pytest.raises(UnknownTask):
        when(given(received()), warn("sign"))
