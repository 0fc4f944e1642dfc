"""Dispatch (派单), manual re-dispatch and the whistle (吹哨报到)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import (
    NOW,
    assignment,
    dispatched,
    given,
    received,
    replied_case,
    then_state,
    when,
)

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import CaseStatus, IllegalTransition, TaskStatus


def whistle(*assignments: cmd.TaskAssignment, whistle_id: str = "W-1") -> cmd.BlowWhistle:
    return cmd.BlowWhistle(
        whistle_id=whistle_id,
        street="XYL",
        departments=[a.department for a in assignments],
        reason="占道经营屡禁不止，需多部门联合执法",
        report_by=NOW + timedelta(hours=2),
        assignments=list(assignments),
    )


def test_dispatch_creates_one_task_per_assignment() -> None:
    lead, assist = assignment(role="lead"), assignment(role="assist")
    state = given(received())

    events = when(state, cmd.DispatchCase(assignments=[lead, assist]))

    assert events == [dispatched(lead), dispatched(assist)]
    after = then_state(state, events)
    assert after.status == CaseStatus.DISPATCHED
    assert [t.state for t in after.tasks.values()] == [TaskStatus.DISPATCHED] * 2
    assert after.tasks[lead.task_id].original_reply_by == lead.deadlines.reply_by


def test_dispatch_without_departments_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="no department to dispatch to"):
        when(given(received()), cmd.DispatchCase(assignments=[]))


def test_a_department_may_not_hold_two_open_tasks_on_one_case() -> None:
    first = assignment(role="lead")
    state = given(received(), dispatched(first))

    again = assignment(department=first.department, role="assist")
    with pytest.raises(IllegalTransition, match=f"{first.department} already holds open task"):
        when(state, cmd.DispatchCase(assignments=[again]))


def test_one_command_may_not_give_a_department_two_tasks() -> None:
    a = assignment(role="lead")
    b = assignment(department=a.department, role="assist")

    with pytest.raises(IllegalTransition, match="already holds"):
        when(given(received()), cmd.DispatchCase(assignments=[a, b]))


def test_a_department_whose_task_was_returned_can_be_dispatched_again() -> None:
    a = assignment()
    state = given(
        received(),
        dispatched(a),
        ev.TaskReturnRequested(task_id=a.task_id, reason="other", basis="信息不全"),
        ev.TaskReturnApproved(task_id=a.task_id),
    )

    again = assignment(department=a.department)
    assert when(state, cmd.DispatchCase(assignments=[again])) == [dispatched(again)]


def test_a_case_has_one_open_lead_at_a_time() -> None:
    state = given(received(), dispatched(role="lead"))

    with pytest.raises(IllegalTransition, match="one lead department"):
        when(state, cmd.DispatchCase(assignments=[assignment(role="lead")]))


def test_an_assist_can_join_a_dispatched_case() -> None:
    state = given(received(), dispatched(role="lead"))
    assist = assignment(role="assist")

    assert when(state, cmd.DispatchCase(assignments=[assist])) == [dispatched(assist)]


def test_task_ids_are_unique_within_a_case() -> None:
    a = assignment()
    state = given(received(), dispatched(a))

    with pytest.raises(IllegalTransition, match=f"task id {a.task_id} is already used"):
        when(state, cmd.DispatchCase(assignments=[assignment(task_id=a.task_id, role="assist")]))


def test_summoned_tasks_come_only_from_a_whistle() -> None:
    with pytest.raises(IllegalTransition, match="only from a whistle"):
        when(given(received()), cmd.DispatchCase(assignments=[assignment(role="summoned")]))


def test_manual_redispatch_cancels_open_lead_and_assist_tasks_first() -> None:
    lead, assist = assignment(role="lead"), assignment(role="assist")
    summoned = assignment(role="summoned", whistle_id="W-1")
    state = given(received(), dispatched(lead), dispatched(assist), dispatched(summoned))
    new_lead = assignment(role="lead")

    events = when(state, cmd.DispatchCase(assignments=[new_lead], replace_open=True))

    assert events == [
        ev.TaskCancelled(task_id=lead.task_id, reason="re-dispatched"),
        ev.TaskCancelled(task_id=assist.task_id, reason="re-dispatched"),
        dispatched(new_lead),
    ]
    after = then_state(state, events)
    assert after.tasks[summoned.task_id].state == TaskStatus.DISPATCHED
    assert after.hops == 2


def test_manual_redispatch_may_give_the_same_department_a_fresh_task() -> None:
    lead = assignment(role="lead")
    state = given(received(), dispatched(lead), ev.TaskSigned(task_id=lead.task_id))
    fresh = assignment(department=lead.department, role="lead")

    events = when(state, cmd.DispatchCase(assignments=[fresh], replace_open=True))

    assert events[-1] == dispatched(fresh)


def test_redispatch_with_no_assignments_recalls_the_case_to_the_dispatcher() -> None:
    lead = assignment()
    state = given(received(), dispatched(lead))

    events = when(state, cmd.DispatchCase(assignments=[], replace_open=True))

    assert then_state(state, events).status == CaseStatus.RECEIVED


def test_hops_count_lead_dispatches() -> None:
    first, second = assignment(role="lead"), assignment(role="lead")
    state = given(
        received(),
        dispatched(first),
        dispatched(role="assist"),
        ev.TaskReturnRequested(task_id=first.task_id, reason="territory", basis="属地不符"),
        ev.TaskReturnApproved(task_id=first.task_id),
        dispatched(second),
    )

    assert state.hops == 2


@pytest.mark.parametrize(
    "closing",
    [
        [ev.CaseAnswered(answer="x")],
        [ev.CaseAnswered(answer="x"), ev.CaseClosed()],
        [ev.CaseMerged(into="case-other")],
    ],
    ids=["answered", "closed", "merged"],
)
def test_a_finished_case_cannot_be_dispatched(closing: list[ev.Event]) -> None:
    state = given(received(), *closing)

    with pytest.raises(IllegalTransition, match="cannot dispatch"):
        when(state, cmd.DispatchCase(assignments=[assignment()]))


def test_a_parked_case_must_be_unparked_before_dispatch() -> None:
    from datetime import date

    state = given(
        received(), dispatched(), ev.CaseParked(plan="纳入明年改造", review_on=date(2026, 9, 1))
    )

    with pytest.raises(IllegalTransition, match="allowed next: merge, unpark"):
        when(state, cmd.DispatchCase(assignments=[assignment(role="assist")]))


def test_a_replied_case_can_take_another_task() -> None:
    state = given(*replied_case())
    assist = assignment(role="assist")

    after = then_state(state, when(state, cmd.DispatchCase(assignments=[assist])))

    assert after.status == CaseStatus.IN_PROGRESS


# -- whistle ------------------------------------------------------------------------------


def test_a_whistle_summons_every_named_department() -> None:
    a, b = assignment(role="lead"), assignment(role="lead")
    state = given(received())

    events = when(state, whistle(a, b))

    assert events[0] == ev.WhistleBlown(
        whistle_id="W-1",
        street="XYL",
        departments=[a.department, b.department],
        report_by=NOW + timedelta(hours=2),
        reason="占道经营屡禁不止，需多部门联合执法",
    )
    tasks = [e for e in events if isinstance(e, ev.CaseDispatched)]
    assert [(e.department, e.role, e.whistle_id) for e in tasks] == [
        (a.department, "summoned", "W-1"),
        (b.department, "summoned", "W-1"),
    ]
    after = then_state(state, events)
    assert after.status == CaseStatus.DISPATCHED
    assert after.whistles[0].departments == (a.department, b.department)
    assert after.hops == 0


def test_a_whistle_is_blown_once() -> None:
    a = assignment()
    state = then_state(given(received()), when(given(received()), whistle(a)))

    with pytest.raises(IllegalTransition, match="already blown"):
        when(state, whistle(assignment()))


def test_a_whistle_needs_a_report_time_in_the_future() -> None:
    command = whistle(assignment()).model_copy(update={"report_by": NOW})

    with pytest.raises(IllegalTransition, match="already past"):
        when(given(received()), command)


def test_a_whistle_must_name_the_departments_it_summons() -> None:
    command = whistle(assignment()).model_copy(update={"departments": ["someone-else"]})

    with pytest.raises(IllegalTransition, match="does not name"):
        when(given(received()), command)


def test_a_department_already_on_the_case_cannot_be_summoned_again() -> None:
    lead = assignment()
    state = given(received(), dispatched(lead))

    with pytest.raises(IllegalTransition, match="already holds open task"):
        when(state, whistle(assignment(department=lead.department)))


def test_a_whistle_without_departments_is_refused() -> None:
    command = whistle().model_copy(update={"assignments": []})

    with pytest.raises(IllegalTransition, match="no department"):
        when(given(received()), command)


def test_a_closed_case_cannot_be_whistled() -> None:
    state = given(*replied_case(), ev.CaseClosed())

    with pytest.raises(IllegalTransition, match="is closed, cannot whistle; allowed next: reopen"):
        when(state, whistle(assignment()))
