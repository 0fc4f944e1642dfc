"""Random command sequences never leave a case in a state that breaks the rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from builders import T0, assignment, deadlines, receive_command
from hypothesis import HealthCheck, given, settings
from hypothesis import event as observe
from hypothesis import strategies as st

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case import (
    CaseState,
    CaseStatus,
    DomainError,
    TaskStatus,
    allowed_case_actions,
    allowed_task_actions,
    decide,
    derive_status,
    evolve,
    fold,
)
from events import Event

# What st.data().draw and @composite draws both are.
Draw = Callable[[st.SearchStrategy[Any]], Any]

DEPARTMENTS = ["water", "roads", "city", "xyl-office", "housing"]
ROLES = ["lead", "assist", "summoned"]

# Offered actions that must then succeed whatever else holds (no extra data to get wrong).
ALWAYS_LEGAL_WHEN_OFFERED = {
    "sign", "return", "return/approve", "return/reject", "contact", "progress", "reply",
    "extension/deny", "answer", "callback", "close", "park", "unpark", "urge", "evaluation",
}  # fmt: skip


def assignments(draw: Draw, state: CaseState, now: datetime) -> list[cmd.TaskAssignment]:
    count = draw(st.integers(0, 3))
    existing = list(state.tasks)
    result = []
    for _ in range(count):
        reuse = bool(existing) and draw(st.booleans()) and draw(st.booleans())
        result.append(
            assignment(
                department=draw(st.sampled_from(DEPARTMENTS)),
                role=draw(st.sampled_from(ROLES)),
                task_id=draw(st.sampled_from(existing)) if reuse else None,
                deadlines=deadlines(start=now),
            )
        )
    return result


def task_command(draw: Draw, state: CaseState, action: str, now: datetime) -> cmd.Command:
    task_id = draw(st.sampled_from([*state.tasks, "ghost"])) if action != "warn" else None
    task_id = task_id or draw(st.sampled_from([*state.tasks, "ghost"]))
    later = now + timedelta(days=draw(st.integers(-3, 30)))
    cap = draw(st.one_of(st.none(), st.just(now + timedelta(days=20))))
    factories = {
        "sign": lambda: cmd.SignTask(task_id=task_id),
        "return": lambda: cmd.RequestReturn(task_id=task_id, reason="territory", basis="b"),
        "return/approve": lambda: cmd.ApproveReturn(task_id=task_id),
        "return/reject": lambda: cmd.RejectReturn(task_id=task_id),
        "contact": lambda: cmd.ContactCitizen(task_id=task_id, note="n"),
        "extension": lambda: cmd.RequestExtension(
            task_id=task_id, reply_by=later, reason="r", latest_allowed=cap
        ),
        "extension/approve": lambda: cmd.ApproveExtension(task_id=task_id, latest_allowed=cap),
        "extension/deny": lambda: cmd.DenyExtension(task_id=task_id),
        "progress": lambda: cmd.NoteProgress(task_id=task_id, note="n"),
        "reply": lambda: cmd.ReplyTask(task_id=task_id, resolution="r"),
        "evaluation": lambda: cmd.EvaluateTask(
            task_id=task_id,
            street="XYL",
            rating=draw(st.sampled_from(["satisfied", "basic", "unsatisfied"])),
        ),
        "warn": lambda: cmd.RaiseSlaWarning(
            task_id=task_id,
            stage=draw(st.sampled_from(["sign", "contact", "reply"])),
            level=draw(st.sampled_from(["yellow", "red"])),
        ),
    }
    return factories[action]()


def case_command(draw: Draw, state: CaseState, action: str, now: datetime) -> cmd.Command:
    if action == "dispatch":
        return cmd.DispatchCase(
            assignments=assignments(draw, state, now), replace_open=draw(st.booleans())
        )
    if action == "whistle":
        summoned = assignments(draw, state, now)
        return cmd.BlowWhistle(
            whistle_id=f"W-{draw(st.integers(0, 3))}",
            street="XYL",
            departments=[a.department for a in summoned],
            reason="r",
            report_by=now + timedelta(hours=draw(st.integers(-1, 4))),
            assignments=summoned,
        )
    if action == "reopen":
        return cmd.ReopenCase(reason="r", assignments=assignments(draw, state, now))
    department = draw(st.one_of(st.none(), st.sampled_from(DEPARTMENTS)))
    factories = {
        "answer": lambda: cmd.AnswerCase(answer="a"),
        "unroutable": lambda: cmd.MarkUnroutable(reason="no rule"),
        "urge": lambda: cmd.UrgeCase(level="reminder", note="n", department=department),
        "callback": lambda: cmd.RecordCallback(solved="partly", satisfaction="basic"),
        "park": lambda: cmd.ParkCase(plan="p", review_on=date(2026, 12, 1)),
        "unpark": lambda: cmd.UnparkCase(),
        "merge": lambda: cmd.MergeCase(into=draw(st.sampled_from(["case-other", "case-self"]))),
        "close": lambda: cmd.CloseCase(
            override_reason=draw(st.sampled_from([None, "市民诉求超出政策范围"]))
        ),
        "recall": lambda: cmd.RecallCase(reason=draw(st.sampled_from([None, "派错了"]))),
    }
    return factories[action]()


TASK_ACTIONS = [
    "sign", "return", "return/approve", "return/reject", "contact", "extension",
    "extension/approve", "extension/deny", "progress", "reply", "warn", "evaluation",
]  # fmt: skip
CASE_ACTIONS = [
    "answer", "unroutable", "dispatch", "whistle", "urge", "callback", "reopen", "park",
    "unpark", "merge", "close", "recall",
]  # fmt: skip


def check_invariants(state: CaseState, stream: list[tuple[Event, datetime]]) -> None:
    assert state.status == derive_status(state)
    open_tasks = state.open_tasks
    departments = [t.department for t in open_tasks]
    assert len(departments) == len(set(departments)), "a department holds two open tasks"
    assert sum(t.role == "lead" for t in open_tasks) <= 1, "two open leads"
    assert all(t.round == state.reopen_count for t in open_tasks), "an old round is still open"
    active = [t for t in state.current_tasks if t.is_active]
    if state.status == CaseStatus.REPLIED:
        assert active and all(t.state == TaskStatus.REPLIED for t in active)
    if state.status == CaseStatus.RECEIVED:
        assert not active
    if state.status in (CaseStatus.DISPATCHED, CaseStatus.REOPENED):
        assert active and all(
            t.state in (TaskStatus.DISPATCHED, TaskStatus.RETURN_REQUESTED) for t in active
        )
    if state.status in (CaseStatus.CLOSED, CaseStatus.ANSWERED, CaseStatus.MERGED):
        assert not open_tasks
    for task in state.tasks.values():
        assert task.deadlines.reply_by >= task.original_reply_by
        if task.pending_extension is not None:
            assert task.state in (TaskStatus.SIGNED, TaskStatus.CONTACTED)
            assert task.pending_extension.reply_by > task.deadlines.reply_by
        if task.state == TaskStatus.DISPATCHED:
            assert task.signed_at is None
    raised = [e for e, _ in stream if isinstance(e, ev.SlaWarningRaised)]
    assert len(raised) == len(state.warnings), "a warning was raised twice"
    leads = [e for e, _ in stream if isinstance(e, ev.CaseDispatched) and e.role == "lead"]
    assert state.hops == len(leads)
    rated = [e.task_id for e, _ in stream if isinstance(e, ev.TaskEvaluated)]
    assert len(rated) == len(set(rated)), "a task was rated twice"
    for task_id in rated:
        task = state.tasks[task_id]
        assert task.role == "summoned" and task.state == TaskStatus.REPLIED


def next_command(draw: Draw, state: CaseState, now: datetime) -> tuple[cmd.Command, bool]:
    """A command, and whether it is one the state offers (so legal paths are well covered).

    Offered task actions are aimed at a task that offers them; merge, which ends the story,
    is left to the unguided draws.
    """
    by_task = {t.task_id: allowed_task_actions(t, state) for t in state.tasks.values()}
    task_offered = sorted({a for actions in by_task.values() for a in actions})
    case_offered = [a for a in allowed_case_actions(state) if a != "merge"]
    mode = draw(st.sampled_from(["task", "task", "task", "case", "any"]))
    if mode == "task" and task_offered:
        action = draw(st.sampled_from(task_offered))
        task_id = draw(st.sampled_from([t for t, actions in by_task.items() if action in actions]))
        command = task_command(draw, state, action, now)
        return command.model_copy(update={"task_id": task_id}), True
    if mode == "case" and case_offered:
        action = draw(st.sampled_from(case_offered))
        if action == "urge":
            return cmd.UrgeCase(level="reminder", note="n"), True
        return case_command(draw, state, action, now), True
    action = draw(st.sampled_from(TASK_ACTIONS + CASE_ACTIONS))
    if action in TASK_ACTIONS:
        return task_command(draw, state, action, now), False
    return case_command(draw, state, action, now), False


def action_of(command: cmd.Command) -> str:
    names = {
        cmd.SignTask: "sign", cmd.RequestReturn: "return", cmd.ApproveReturn: "return/approve",
        cmd.RejectReturn: "return/reject", cmd.ContactCitizen: "contact",
        cmd.NoteProgress: "progress", cmd.ReplyTask: "reply", cmd.DenyExtension: "extension/deny",
        cmd.AnswerCase: "answer", cmd.RecordCallback: "callback", cmd.CloseCase: "close",
        cmd.ParkCase: "park", cmd.UnparkCase: "unpark", cmd.UrgeCase: "urge",
        cmd.EvaluateTask: "evaluation",
    }  # fmt: skip
    return names.get(type(command), "other")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_commands_keep_every_invariant(data: st.DataObject) -> None:
    draw = data.draw
    now = T0
    stream: list[tuple[Event, datetime]] = [
        (event, now) for event in decide(None, receive_command(case_id="case-self"), now)
    ]
    state = fold(stream, case_id="case-self")
    assert state is not None

    for _ in range(draw(st.integers(1, 40))):
        now += timedelta(minutes=draw(st.integers(0, 600)))
        command, offered = next_command(draw, state, now)
        try:
            events = decide(state, command, now)
        except DomainError as error:
            assert "allowed next: " in error.message
            legal = offered and action_of(command) in ALWAYS_LEGAL_WHEN_OFFERED
            assert not legal, f"{command!r} was offered but refused: {error.message}"
            continue
        for event in events:
            state = evolve(state, event, now)
            stream.append((event, now))
        check_invariants(state, stream)
        observe(str(state.status))
    assert fold(stream, case_id="case-self") == state
