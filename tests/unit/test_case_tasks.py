"""A department's work on its task: sign (签收), return (退单), contact, progress, reply (办结)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from builders import (
    NOW,
    T0,
    assignment,
    dispatched,
    given,
    received,
    return_requested,
    task_history,
    then_state,
    when,
)

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import (
    TASK_TRANSITIONS,
    CaseStatus,
    DomainError,
    IllegalTransition,
    TaskStatus,
    UnknownTask,
    allowed_case_actions,
    allowed_task_actions,
)

# One command per user action on a task, so the transition table can be walked exhaustively.
ACTIONS: dict[str, Callable[[str], cmd.Command]] = {
    "sign": lambda t: cmd.SignTask(task_id=t),
    "return": lambda t: cmd.RequestReturn(task_id=t, reason="territory", basis="不在辖区"),
    "return/approve": lambda t: cmd.ApproveReturn(task_id=t),
    "return/reject": lambda t: cmd.RejectReturn(task_id=t, note="属本单位职责"),
    "contact": lambda t: cmd.ContactCitizen(task_id=t, note="已电话联系"),
    "extension": lambda t: cmd.RequestExtension(
        task_id=t, reply_by=T0 + timedelta(days=10), reason="需协调施工", latest_allowed=None
    ),
    "extension/approve": lambda t: cmd.ApproveExtension(task_id=t),
    "extension/deny": lambda t: cmd.DenyExtension(task_id=t),
    "progress": lambda t: cmd.NoteProgress(task_id=t, note="已派人现场勘查"),
    "reply": lambda t: cmd.ReplyTask(task_id=t, resolution="坑已填平"),
}

NEXT_STATE = {
    "sign": TaskStatus.SIGNED,
    "return": TaskStatus.RETURN_REQUESTED,
    "return/approve": TaskStatus.RETURNED,
    "return/reject": TaskStatus.DISPATCHED,
    "contact": TaskStatus.CONTACTED,
    "reply": TaskStatus.REPLIED,
}


@pytest.mark.parametrize("status", list(TaskStatus), ids=str)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_task_action_follows_the_transition_table(status: TaskStatus, action: str) -> None:
    a = assignment()
    state = given(received(), *task_history(status, a))
    command = ACTIONS[action](a.task_id)

    if action in allowed_task_actions(state.tasks[a.task_id]):
        events = when(state, command)
        task = then_state(state, events).tasks[a.task_id]
        assert task.state == NEXT_STATE.get(action, status)
        assert task.state == TASK_TRANSITIONS[status][action]
    else:
        with pytest.raises(IllegalTransition, match=f"task {a.task_id} is {status}"):
            when(state, command)


def test_the_table_offers_what_a_liaison_expects() -> None:
    a = assignment()
    offered = {
        status: allowed_task_actions(given(received(), *task_history(status, a)).tasks[a.task_id])
        for status in TaskStatus
    }

    assert offered == {
        TaskStatus.DISPATCHED: ["return", "sign"],
        TaskStatus.SIGNED: ["contact", "extension", "progress", "reply", "return"],
        TaskStatus.CONTACTED: ["extension", "progress", "reply"],
        TaskStatus.RETURN_REQUESTED: ["return/approve", "return/reject"],
        TaskStatus.RETURNED: [],
        TaskStatus.REPLIED: [],
        TaskStatus.CANCELLED: [],
    }


def test_liaison_signs_a_dispatched_task() -> None:
    a = assignment()
    state = given(received(), dispatched(a))

    events = when(state, cmd.SignTask(task_id=a.task_id))

    assert events == [ev.TaskSigned(task_id=a.task_id)]
    after = then_state(state, events)
    assert after.tasks[a.task_id].signed_at == NOW
    assert after.status == CaseStatus.IN_PROGRESS


def test_liaison_task_cannot_be_signed_twice() -> None:
    a = assignment()
    state = given(received(), *task_history(TaskStatus.SIGNED, a))

    with pytest.raises(IllegalTransition) as caught:
        when(state, cmd.SignTask(task_id=a.task_id))

    assert str(caught.value) == (
        f"task {a.task_id} is signed, so it cannot sign; "
        "allowed next: contact, extension, progress, reply, return"
    )
    assert caught.value.allowed_next == ["contact", "extension", "progress", "reply", "return"]


def test_an_unknown_task_is_refused_with_the_case_actions() -> None:
    state = given(received(), dispatched())

    with pytest.raises(UnknownTask, match="has no task nope; allowed next: answer, dispatch"):
        when(state, cmd.SignTask(task_id="nope"))


def test_a_return_can_be_requested_before_signing() -> None:
    a = assignment()
    state = given(received(), dispatched(a))

    events = when(state, cmd.RequestReturn(task_id=a.task_id, reason="remit", basis="非本单位职能"))

    assert events == [
        ev.TaskReturnRequested(task_id=a.task_id, reason="remit", basis="非本单位职能")
    ]
    task = then_state(state, events).tasks[a.task_id]
    assert task.return_request is not None
    assert task.return_request.reason == "remit"


def test_a_department_that_contacted_the_citizen_cannot_return_the_task() -> None:
    a = assignment()
    state = given(received(), *task_history(TaskStatus.CONTACTED, a))

    with pytest.raises(IllegalTransition, match="is contacted, so it cannot return"):
        when(state, ACTIONS["return"](a.task_id))


def test_a_rejected_return_is_forced_back_and_must_be_signed_again() -> None:
    a = assignment()
    state = given(received(), *task_history(TaskStatus.RETURN_REQUESTED, a))

    events = when(state, cmd.RejectReturn(task_id=a.task_id, note="属本单位职责"))

    after = then_state(state, events)
    task = after.tasks[a.task_id]
    assert (task.state, task.signed_at, task.return_request) == (TaskStatus.DISPATCHED, None, None)
    assert after.status == CaseStatus.DISPATCHED
    assert when(after, cmd.SignTask(task_id=a.task_id)) == [ev.TaskSigned(task_id=a.task_id)]


def test_all_tasks_returned_puts_case_back_to_dispatcher() -> None:
    lead, assist = assignment(role="lead"), assignment(role="assist")
    state = given(
        received(),
        dispatched(lead),
        dispatched(assist),
        return_requested(lead.task_id),
        return_requested(assist.task_id),
        ev.TaskReturnApproved(task_id=lead.task_id),
    )
    assert state.status == CaseStatus.DISPATCHED

    after = then_state(state, when(state, cmd.ApproveReturn(task_id=assist.task_id)))

    assert after.status == CaseStatus.RECEIVED
    assert allowed_case_actions(after) == ["answer", "dispatch", "merge", "whistle"]


def test_a_pending_return_keeps_the_case_dispatched_not_in_progress() -> None:
    a = assignment()
    state = given(received(), *task_history(TaskStatus.RETURN_REQUESTED, a))

    assert state.status == CaseStatus.DISPATCHED


def test_contact_is_recorded_once() -> None:
    a = assignment()
    state = given(received(), *task_history(TaskStatus.SIGNED, a))

    events = when(state, cmd.ContactCitizen(task_id=a.task_id, note="已电话联系"))

    assert then_state(state, events).tasks[a.task_id].contacted_at == NOW
    with pytest.raises(IllegalTransition, match="is contacted, so it cannot contact"):
        when(then_state(state, events), cmd.ContactCitizen(task_id=a.task_id, note="again"))


def test_a_task_cannot_be_contacted_before_it_is_signed() -> None:
    a = assignment()

    with pytest.raises(IllegalTransition, match="allowed next: return, sign"):
        when(given(received(), dispatched(a)), ACTIONS["contact"](a.task_id))


def test_progress_notes_keep_the_task_state() -> None:
    a = assignment()
    state = given(received(), *task_history(TaskStatus.CONTACTED, a))

    after = then_state(state, when(state, ACTIONS["progress"](a.task_id)))

    assert after.tasks[a.task_id].state == TaskStatus.CONTACTED
    assert after.tasks[a.task_id].last_progress_at == NOW


def test_a_task_can_be_replied_without_a_separate_contact() -> None:
    a = assignment()
    state = given(received(), *task_history(TaskStatus.SIGNED, a))

    events = when(state, cmd.ReplyTask(task_id=a.task_id, resolution="已处理"))

    assert events == [ev.TaskReplied(task_id=a.task_id, resolution="已处理")]
    assert then_state(state, events).tasks[a.task_id].resolution == "已处理"


def test_the_case_is_replied_only_when_every_active_task_is_replied() -> None:
    lead, assist, gone = (
        assignment(role="lead"),
        assignment(role="assist"),
        assignment(role="assist"),
    )
    state = given(
        received(),
        *task_history(TaskStatus.REPLIED, lead),
        dispatched(assist),
        dispatched(gone),
        return_requested(gone.task_id),
        ev.TaskReturnApproved(task_id=gone.task_id),
    )
    assert state.status == CaseStatus.IN_PROGRESS

    state = then_state(state, [ev.TaskSigned(task_id=assist.task_id)])
    state = then_state(state, when(state, ACTIONS["reply"](assist.task_id)))

    assert state.status == CaseStatus.REPLIED


def test_task_work_on_a_parked_case_waits_for_unpark() -> None:
    a = assignment()
    state = given(
        received(), dispatched(a), ev.CaseParked(plan="待预算", review_on=date(2026, 6, 1))
    )

    with pytest.raises(IllegalTransition, match="cannot sign until the case is unparked"):
        when(state, cmd.SignTask(task_id=a.task_id))


def test_task_errors_are_domain_errors() -> None:
    assert issubclass(IllegalTransition, DomainError)
    assert issubclass(UnknownTask, DomainError)
