"""The centre's side: urge (催办/督办), callback (回访), close (结案), reopen (重办),
park (挂账), merge — and the case transition table walked exhaustively."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from builders import (
    NOW,
    assignment,
    dispatched,
    given,
    received,
    replied_case,
    task_history,
    then_state,
    when,
)

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import (
    CASE_ACTIONS,
    CaseState,
    CaseStatus,
    IllegalTransition,
    TaskStatus,
    allowed_case_actions,
)
from events import Event

LEAD = assignment(role="lead")
REVIEW_ON = date(2026, 9, 1)


def case_in(status: CaseStatus) -> list[Event]:
    replied = replied_case(LEAD)
    histories: dict[CaseStatus, list[Event]] = {
        CaseStatus.RECEIVED: [received()],
        CaseStatus.DISPATCHED: [received(), dispatched(LEAD)],
        CaseStatus.IN_PROGRESS: [received(), *task_history(TaskStatus.SIGNED, LEAD)],
        CaseStatus.REPLIED: replied,
        CaseStatus.CLOSED: [*replied, ev.CaseClosed()],
        CaseStatus.ANSWERED: [received(), ev.CaseAnswered(answer="已答复")],
        CaseStatus.PARKED: [
            received(),
            dispatched(LEAD),
            ev.CaseParked(plan="p", review_on=REVIEW_ON),
        ],
        CaseStatus.MERGED: [received(), ev.CaseMerged(into="case-original")],
        CaseStatus.REOPENED: [*replied, ev.CaseReopened(reason="不满意"), dispatched(role="lead")],
    }
    return histories[status]


def whistle() -> cmd.BlowWhistle:
    a = assignment()
    return cmd.BlowWhistle(
        whistle_id="W-9",
        street="XYL",
        departments=[a.department],
        reason="r",
        report_by=NOW + timedelta(hours=2),
        assignments=[a],
    )


CASE_COMMANDS: dict[str, Callable[[], cmd.Command]] = {
    "answer": lambda: cmd.AnswerCase(answer="已答复"),
    "dispatch": lambda: cmd.DispatchCase(assignments=[assignment(role="assist")]),
    "whistle": whistle,
    "urge": lambda: cmd.UrgeCase(level="reminder", note="请尽快办理"),
    "callback": lambda: cmd.RecordCallback(solved="solved", satisfaction="satisfied"),
    "reopen": lambda: cmd.ReopenCase(reason="市民不满意", assignments=[assignment()]),
    "park": lambda: cmd.ParkCase(plan="纳入年度改造计划", review_on=REVIEW_ON),
    "unpark": lambda: cmd.UnparkCase(note="资金已落实"),
    "merge": lambda: cmd.MergeCase(into="case-original"),
    "close": lambda: cmd.CloseCase(),
    "unroutable": lambda: cmd.MarkUnroutable(reason="no rule"),
    "recall": lambda: cmd.RecallCase(reason="派错了"),
}

# Refusals with a rule of their own, before the table's general one (§8.2).
SPECIFIC_REFUSALS = {
    ("answer", CaseStatus.IN_PROGRESS): "task_already_signed",
    ("recall", CaseStatus.IN_PROGRESS): "task_already_signed",
    ("recall", CaseStatus.RECEIVED): "nothing_to_recall",
}


@pytest.mark.parametrize("status", list(CaseStatus), ids=str)
@pytest.mark.parametrize("action", list(CASE_COMMANDS))
def test_every_case_action_follows_the_transition_table(status: CaseStatus, action: str) -> None:
    state = given(*case_in(status))
    assert state.status == status

    if action in CASE_ACTIONS[status]:
        assert when(state, CASE_COMMANDS[action]()) != []
    elif (action, status) in SPECIFIC_REFUSALS:
        with pytest.raises(IllegalTransition) as refused:
            when(state, CASE_COMMANDS[action]())
        assert refused.value.code == SPECIFIC_REFUSALS[(action, status)]
    else:
        with pytest.raises(IllegalTransition, match=f"is {status}, cannot {action}; allowed next"):
            when(state, CASE_COMMANDS[action]())


def test_the_table_offers_what_the_centre_expects() -> None:
    offered = {status: allowed_case_actions(given(*case_in(status))) for status in CaseStatus}

    assert offered == {
        CaseStatus.RECEIVED: ["answer", "dispatch", "merge", "whistle"],
        CaseStatus.DISPATCHED: ["answer", "dispatch", "merge", "park", "recall", "urge", "whistle"],
        CaseStatus.IN_PROGRESS: ["dispatch", "merge", "park", "urge", "whistle"],
        CaseStatus.REPLIED: ["callback", "close", "dispatch", "merge", "park", "reopen", "whistle"],
        CaseStatus.CLOSED: ["reopen"],
        CaseStatus.ANSWERED: ["callback", "close", "reopen"],
        CaseStatus.PARKED: ["merge", "unpark"],
        CaseStatus.MERGED: [],
        CaseStatus.REOPENED: ["answer", "dispatch", "merge", "park", "recall", "urge", "whistle"],
    }


# -- urge --------------------------------------------------------------------------------


def test_an_urge_names_a_department_holding_an_open_task() -> None:
    state = given(*case_in(CaseStatus.DISPATCHED))

    events = when(state, cmd.UrgeCase(level="supervision", note="督办", department=LEAD.department))

    assert events == [ev.CaseUrged(level="supervision", note="督办", department=LEAD.department)]
    assert then_state(state, events).urges[0].level == "supervision"


def test_a_department_without_an_open_task_cannot_be_urged() -> None:
    state = given(*case_in(CaseStatus.DISPATCHED))

    with pytest.raises(IllegalTransition, match="holds no open task to urge"):
        when(state, cmd.UrgeCase(level="reminder", note="n", department="bystander"))


# -- callback and close ------------------------------------------------------------------


def test_several_callbacks_may_be_recorded_and_the_last_counts() -> None:
    state = given(
        *case_in(CaseStatus.REPLIED),
        ev.CallbackRecorded(solved="unsolved", satisfaction="none", note="未接通"),
    )

    events = when(state, cmd.RecordCallback(solved="solved", satisfaction="satisfied"))

    after = then_state(state, events)
    assert len(after.callbacks) == 2
    assert after.last_callback is not None
    assert (after.last_callback.solved, after.last_callback.satisfaction) == ("solved", "satisfied")
    assert after.status == CaseStatus.REPLIED


def test_an_answered_case_can_be_called_back_and_closed() -> None:
    state = given(*case_in(CaseStatus.ANSWERED))
    state = then_state(state, when(state, CASE_COMMANDS["callback"]()))

    after = then_state(state, when(state, cmd.CloseCase(note="办结")))

    assert after.status == CaseStatus.CLOSED
    assert after.closed_at == NOW


def test_a_case_with_open_tasks_cannot_be_closed() -> None:
    with pytest.raises(IllegalTransition, match="is in_progress, cannot close"):
        when(given(*case_in(CaseStatus.IN_PROGRESS)), cmd.CloseCase())


# -- reopen ------------------------------------------------------------------------------


def test_reopen_creates_fresh_tasks() -> None:
    state = given(*case_in(CaseStatus.CLOSED))
    fresh = assignment(department=LEAD.department, role="lead")

    events = when(state, cmd.ReopenCase(reason="市民反映未解决", assignments=[fresh]))

    assert events == [ev.CaseReopened(reason="市民反映未解决"), dispatched(fresh)]
    after = then_state(state, events)
    assert after.status == CaseStatus.REOPENED
    assert after.reopen_count == 1
    assert after.closed_at is None
    assert after.tasks[LEAD.task_id].state == TaskStatus.REPLIED
    assert after.tasks[fresh.task_id].round == 1
    assert after.hops == 2


def test_a_reopened_case_follows_its_new_tasks() -> None:
    fresh = assignment(role="lead")
    state = given(*case_in(CaseStatus.REPLIED), ev.CaseReopened(reason="r"), dispatched(fresh))
    assert state.status == CaseStatus.REOPENED

    state = then_state(state, [ev.TaskSigned(task_id=fresh.task_id)])
    assert state.status == CaseStatus.IN_PROGRESS

    state = then_state(state, [ev.TaskReplied(task_id=fresh.task_id, resolution="再次处理")])
    assert state.status == CaseStatus.REPLIED


def test_a_reopened_answered_case_is_no_longer_answered() -> None:
    state = given(*case_in(CaseStatus.ANSWERED))

    after = then_state(state, when(state, CASE_COMMANDS["reopen"]()))

    assert (after.answer, after.status) == (None, CaseStatus.REOPENED)


def test_a_reopen_without_assignments_waits_for_the_dispatcher() -> None:
    state = given(*case_in(CaseStatus.CLOSED))

    after = then_state(state, when(state, cmd.ReopenCase(reason="r", assignments=[])))

    assert after.status == CaseStatus.RECEIVED
    assert after.reopen_count == 1


# -- park --------------------------------------------------------------------------------


def test_park_keeps_a_plan_and_unpark_restores_the_derived_status() -> None:
    state = given(*case_in(CaseStatus.IN_PROGRESS))

    parked = then_state(state, when(state, CASE_COMMANDS["park"]()))
    assert parked.status == CaseStatus.PARKED
    assert parked.parking is not None
    assert (parked.parking.plan, parked.parking.review_on) == ("纳入年度改造计划", REVIEW_ON)

    unparked = then_state(parked, when(parked, CASE_COMMANDS["unpark"]()))
    assert unparked.status == CaseStatus.IN_PROGRESS
    assert unparked.parking is None


# -- merge -------------------------------------------------------------------------------


def test_merge_cancels_open_tasks_first() -> None:
    assist = assignment(role="assist")
    state = given(*case_in(CaseStatus.IN_PROGRESS), dispatched(assist))

    events = when(state, cmd.MergeCase(into="case-original"))

    assert events == [
        ev.TaskCancelled(task_id=LEAD.task_id, reason="merged into case-original"),
        ev.TaskCancelled(task_id=assist.task_id, reason="merged into case-original"),
        ev.CaseMerged(into="case-original"),
    ]
    after = then_state(state, events)
    assert after.status == CaseStatus.MERGED
    assert after.open_tasks == []


def test_a_parked_case_can_be_merged() -> None:
    assert when(given(*case_in(CaseStatus.PARKED)), CASE_COMMANDS["merge"]())[-1] == ev.CaseMerged(
        into="case-original"
    )


def test_a_case_cannot_be_merged_into_itself() -> None:
    state: CaseState = given(received(), case_id="case-self")

    with pytest.raises(IllegalTransition, match="merged into itself"):
        when(state, cmd.MergeCase(into="case-self"))
