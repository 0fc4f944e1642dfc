"""超期 in the case list and the inbox means late now: a step past its deadline and not yet
done. Doing the late step clears it; ``was_overdue`` keeps the history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from dispatch.domain import events as ev
from dispatch.projections import ProjectionRunner
from dispatch.queries.cases import get_case, list_cases
from dispatch.queries.tasks import list_tasks

from worlds.projection_story import T0, Story


@dataclass(frozen=True)
class Supervisor:
    roles: frozenset[str] = frozenset({"supervisor"})
    department: str | None = None
    street: str | None = None


SUPERVISOR = Supervisor()


def red(task_id: str, stage: str) -> ev.SlaWarningRaised:
    return ev.SlaWarningRaised(task_id=task_id, stage=stage, level="red", deadline=T0)  # type: ignore[arg-type]


def case_and_task(engine: Engine, case_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with engine.connect() as conn:
        case = get_case(conn, case_id)
    assert case is not None
    (task,) = case["tasks"]
    return case, task


def test_a_case_late_for_signing_is_overdue_until_signed_and_was_overdue_after(
    engine: Engine, story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str
) -> None:
    department, task_id = f"dept-{unique}", f"t-{unique}"
    late = story(f"late-{unique}").received(grid=f"G{unique}").dispatched(task_id, department)
    late.then(red(task_id, "sign"))
    live_runner.catch_up()
    case, task = case_and_task(engine, late.case_id)
    assert case["overdue"] and case["was_overdue"]
    assert task["overdue"] and task["was_overdue"]
    with engine.connect() as conn:
        overdue, _ = list_cases(conn, SUPERVISOR, grid=f"G{unique}", overdue=True)
        inbox, _ = list_tasks(conn, SUPERVISOR, department=department, overdue=True)
    assert [item["id"] for item in overdue] == [late.case_id]
    assert [item["id"] for item in inbox] == [task_id]

    late.then(ev.TaskSigned(task_id=task_id), role="liaison")
    live_runner.catch_up()
    case, task = case_and_task(engine, late.case_id)
    assert not case["overdue"] and case["was_overdue"]
    assert not task["overdue"] and task["was_overdue"]
    with engine.connect() as conn:
        overdue, _ = list_cases(conn, SUPERVISOR, grid=f"G{unique}", overdue=True)
        on_time, _ = list_cases(conn, SUPERVISOR, grid=f"G{unique}", overdue=False)
        inbox, _ = list_tasks(conn, SUPERVISOR, department=department, overdue=True)
    assert overdue == [] and [item["id"] for item in on_time] == [late.case_id]
    assert inbox == []


def test_a_later_red_warning_makes_a_signed_task_overdue_again(
    engine: Engine, story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str
) -> None:
    task_id = f"t-{unique}"
    late = story(f"late-{unique}").received().dispatched(task_id, f"dept-{unique}")
    late.then(red(task_id, "sign"), ev.TaskSigned(task_id=task_id), red(task_id, "reply"))
    live_runner.catch_up()
    case, task = case_and_task(engine, late.case_id)
    assert case["overdue"] and task["overdue"]


def test_a_rejected_return_puts_a_late_sign_back_on_the_overdue_list(
    engine: Engine, story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str
) -> None:
    task_id = f"t-{unique}"
    late = story(f"late-{unique}").received().dispatched(task_id, f"dept-{unique}")
    late.then(red(task_id, "sign"), ev.TaskSigned(task_id=task_id))
    late.then(ev.TaskReturnRequested(task_id=task_id, reason="remit", basis="不属本部门职责"))
    late.then(ev.TaskReturnRejected(task_id=task_id))  # must sign again, still past sign_by
    live_runner.catch_up()
    case, _ = case_and_task(engine, late.case_id)
    assert case["overdue"]


def test_an_approved_extension_ends_a_late_reply_but_not_its_history(
    engine: Engine, story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str
) -> None:
    task_id = f"t-{unique}"
    late = story(f"late-{unique}").received().dispatched(task_id, f"dept-{unique}")
    late.then(ev.TaskSigned(task_id=task_id), red(task_id, "reply"))
    live_runner.catch_up()
    assert case_and_task(engine, late.case_id)[0]["overdue"]
    far = T0 + timedelta(days=3650)
    late.then(ev.ExtensionApproved(task_id=task_id, reply_by=far))
    live_runner.catch_up()
    case, task = case_and_task(engine, late.case_id)
    assert not case["overdue"] and case["was_overdue"]
    assert not task["overdue"] and task["was_overdue"]


def test_a_task_never_warned_and_done_in_time_was_never_overdue(
    engine: Engine, story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str
) -> None:
    punctual = story(f"ok-{unique}").received().dispatched(f"t-{unique}", f"dept-{unique}")
    live_runner.catch_up()
    case, task = case_and_task(engine, punctual.case_id)
    assert not case["overdue"] and not case["was_overdue"]
    assert not task["overdue"] and not task["was_overdue"]
