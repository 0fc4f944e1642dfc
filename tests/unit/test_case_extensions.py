"""Extensions (延期): one request at a time, later than the current deadline, within the cap."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from builders import NOW, assignment, given, received, task_history, then_state, when

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import (
    CaseState,
    ExtensionTooLong,
    IllegalTransition,
    TaskStatus,
    allowed_task_actions,
)

A = assignment()
REPLY_BY = A.deadlines.reply_by
CAP = REPLY_BY + timedelta(days=21)


def signed_task() -> CaseState:
    return given(received(), *task_history(TaskStatus.SIGNED, A))


def with_pending(reply_by: datetime | None = None) -> CaseState:
    requested = ev.ExtensionRequested(
        task_id=A.task_id, reply_by=reply_by or REPLY_BY + timedelta(days=7), reason="需协调施工"
    )
    return given(received(), *task_history(TaskStatus.SIGNED, A), requested)


def request(reply_by: datetime, latest_allowed: datetime | None = CAP) -> cmd.RequestExtension:
    return cmd.RequestExtension(
        task_id=A.task_id, reply_by=reply_by, reason="需协调施工", latest_allowed=latest_allowed
    )


def test_a_signed_task_may_ask_for_more_time() -> None:
    new = REPLY_BY + timedelta(days=7)

    events = when(signed_task(), request(new))

    assert events == [ev.ExtensionRequested(task_id=A.task_id, reply_by=new, reason="需协调施工")]
    task = then_state(signed_task(), events).tasks[A.task_id]
    assert task.pending_extension is not None
    assert task.deadlines.reply_by == REPLY_BY


def test_a_contacted_task_may_ask_for_more_time() -> None:
    state = given(received(), *task_history(TaskStatus.CONTACTED, A))

    assert when(state, request(REPLY_BY + timedelta(days=1))) != []


def test_extension_beyond_cap_is_refused() -> None:
    with pytest.raises(ExtensionTooLong, match="beyond the longest extension the general policy"):
        when(signed_task(), request(CAP + timedelta(minutes=1)))


def test_an_extension_up_to_the_cap_is_allowed() -> None:
    assert when(signed_task(), request(CAP)) != []


def test_no_cap_means_any_later_date() -> None:
    assert when(signed_task(), request(REPLY_BY + timedelta(days=365), latest_allowed=None)) != []


def test_an_extension_must_move_the_deadline_later() -> None:
    with pytest.raises(IllegalTransition, match="must move reply_by past"):
        when(signed_task(), request(REPLY_BY))


def test_an_extension_must_end_in_the_future() -> None:
    overdue_now = REPLY_BY + timedelta(days=2)

    with pytest.raises(IllegalTransition, match="must move reply_by past"):
        when(signed_task(), request(REPLY_BY + timedelta(days=1)), now=overdue_now)


def test_one_extension_request_at_a_time() -> None:
    with pytest.raises(IllegalTransition, match="awaiting a ruling") as caught:
        when(with_pending(), request(REPLY_BY + timedelta(days=3)))

    assert caught.value.allowed_next == [
        "contact",
        "extension/approve",
        "extension/deny",
        "progress",
        "reply",
        "return",
    ]


def test_an_unsigned_task_cannot_ask_for_more_time() -> None:
    state = given(received(), *task_history(TaskStatus.DISPATCHED, A))

    with pytest.raises(IllegalTransition, match="is dispatched, so it cannot extension"):
        when(state, request(REPLY_BY + timedelta(days=1)))


def test_an_approved_extension_moves_reply_by() -> None:
    new = REPLY_BY + timedelta(days=7)
    state = with_pending(new)

    events = when(state, cmd.ApproveExtension(task_id=A.task_id, note="同意", latest_allowed=CAP))

    assert events == [ev.ExtensionApproved(task_id=A.task_id, reply_by=new, note="同意")]
    task = then_state(state, events).tasks[A.task_id]
    assert task.deadlines.reply_by == new
    assert task.original_reply_by == REPLY_BY
    assert task.deadlines.sign_by == A.deadlines.sign_by
    assert task.pending_extension is None
    assert task.extensions_approved == 1
    assert "extension" in allowed_task_actions(task)


def test_approval_rechecks_the_cap() -> None:
    state = with_pending(CAP + timedelta(days=1))

    with pytest.raises(ExtensionTooLong):
        when(state, cmd.ApproveExtension(task_id=A.task_id, latest_allowed=CAP))


def test_a_denied_extension_keeps_reply_by() -> None:
    state = with_pending()

    events = when(state, cmd.DenyExtension(task_id=A.task_id, note="理由不充分"))

    assert events == [ev.ExtensionDenied(task_id=A.task_id, note="理由不充分")]
    task = then_state(state, events).tasks[A.task_id]
    assert (task.deadlines.reply_by, task.pending_extension) == (REPLY_BY, None)


@pytest.mark.parametrize(
    "ruling",
    [cmd.ApproveExtension(task_id=A.task_id), cmd.DenyExtension(task_id=A.task_id)],
    ids=["approve", "deny"],
)
def test_there_is_no_ruling_without_a_request(ruling: cmd.Command) -> None:
    with pytest.raises(IllegalTransition, match="cannot extension/"):
        when(signed_task(), ruling)


def test_a_second_extension_is_measured_from_the_moved_deadline() -> None:
    first = REPLY_BY + timedelta(days=7)
    state = given(
        received(),
        *task_history(TaskStatus.SIGNED, A),
        ev.ExtensionRequested(task_id=A.task_id, reply_by=first, reason="r"),
        ev.ExtensionApproved(task_id=A.task_id, reply_by=first),
    )

    with pytest.raises(IllegalTransition, match="must move reply_by past"):
        when(state, request(first - timedelta(days=1)))
    assert when(state, request(first + timedelta(days=1))) != []


def test_a_return_request_withdraws_a_pending_extension() -> None:
    state = with_pending()

    after = then_state(
        state, when(state, cmd.RequestReturn(task_id=A.task_id, reason="other", basis="b"))
    )

    assert after.tasks[A.task_id].pending_extension is None


def test_replying_settles_a_pending_extension() -> None:
    state = with_pending()

    after = then_state(state, when(state, cmd.ReplyTask(task_id=A.task_id, resolution="done")))

    assert after.tasks[A.task_id].pending_extension is None


def test_now_is_only_used_as_given() -> None:
    # The domain never reads the clock: the same command at the same `now` decides the same.
    assert when(signed_task(), request(CAP), now=NOW) == when(signed_task(), request(CAP), now=NOW)
