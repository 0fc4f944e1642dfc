"""Intake (受理), direct answer (直接答复) and unroutable cases."""

from __future__ import annotations

import pytest
from builders import assignment, dispatched, given, receive_command, received, when

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import (
    CaseNotReceived,
    CaseStatus,
    DomainError,
    DuplicateCase,
    IllegalTransition,
    fold,
)


def test_a_received_case_waits_for_dispatch() -> None:
    command = receive_command()

    events = when(None, command)

    assert events == [
        ev.CaseReceived(
            case_no=command.case_no,
            channel="phone",
            category="road.pothole",
            description=command.description,
            urgency="normal",
            location=command.location,
            reporter_ref=command.reporter_ref,
            received_at=command.received_at,
        )
    ]
    state = given(*events, case_id=command.case_id)
    assert state.status == CaseStatus.RECEIVED
    assert state.case_id == command.case_id
    assert state.tasks == {}


def test_a_case_is_received_only_once() -> None:
    state = given(received())

    with pytest.raises(DuplicateCase, match="already received"):
        when(state, receive_command(case_id=state.case_id))


def test_anything_but_receive_on_a_missing_case_is_case_not_found() -> None:
    with pytest.raises(CaseNotReceived) as caught:
        when(None, cmd.AnswerCase(answer="已答复"))

    assert caught.value.allowed_next == ["receive"]
    assert "allowed next: receive" in str(caught.value)


def test_an_empty_history_folds_to_no_case() -> None:
    assert fold([]) is None


def test_a_stream_must_start_with_case_received() -> None:
    with pytest.raises(ValueError, match="starts with CaseReceived"):
        given(ev.CaseAnswered(answer="x"))


def test_a_received_case_can_be_answered_directly() -> None:
    state = given(received())

    events = when(state, cmd.AnswerCase(answer="咨询类诉求，已告知办理流程"))

    assert events == [ev.CaseAnswered(answer="咨询类诉求，已告知办理流程")]
    assert given(received(), *events).status == CaseStatus.ANSWERED


def test_a_dispatched_case_answered_before_signing_cancels_its_unsigned_tasks() -> None:
    a = assignment()
    state = given(received(), dispatched(a))

    events = when(state, cmd.AnswerCase(answer="x"))

    assert [type(e) for e in events] == [ev.TaskCancelled, ev.CaseAnswered]
    assert events[0] == ev.TaskCancelled(task_id=a.task_id, reason="answered by the centre")


def test_an_answered_case_cannot_be_answered_again() -> None:
    state = given(received(), ev.CaseAnswered(answer="x"))

    with pytest.raises(IllegalTransition, match="is answered"):
        when(state, cmd.AnswerCase(answer="y"))


def test_a_case_with_every_task_returned_can_be_answered() -> None:
    a = assignment()
    t = a.task_id
    state = given(
        received(),
        dispatched(a),
        ev.TaskReturnRequested(task_id=t, reason="remit", basis="非本单位职责"),
        ev.TaskReturnApproved(task_id=t),
    )

    assert when(state, cmd.AnswerCase(answer="不属于政府职责，已解释")) != []


def test_an_unroutable_case_is_marked_and_waits_for_a_dispatcher() -> None:
    state = given(received())

    events = when(state, cmd.MarkUnroutable(reason="no rule matched", catalogue_version=3))

    assert events == [ev.CaseUnroutable(reason="no rule matched", catalogue_version=3)]
    after = given(received(), *events)
    assert after.status == CaseStatus.RECEIVED
    assert after.unroutable == "no rule matched"


def test_dispatch_clears_the_unroutable_mark() -> None:
    state = given(received(), ev.CaseUnroutable(reason="no rule"), dispatched())

    assert state.unroutable is None


def test_a_dispatched_case_cannot_be_marked_unroutable() -> None:
    state = given(received(), dispatched())

    with pytest.raises(DomainError):
        when(state, cmd.MarkUnroutable(reason="late router"))


def test_unroutable_is_never_offered_to_a_user() -> None:
    from dispatch.domain.case import allowed_case_actions

    assert "unroutable" not in allowed_case_actions(given(received()))
