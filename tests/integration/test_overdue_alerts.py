"""Overdue alerts come from the deadlines and the clock, whatever the SLA timers have done."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.kpi import KpiProjection
from dispatch.queries.alerts import OutOfScope, overdue_alerts
from events import EventStore

from worlds.case_story import HOUR, MINUTE, CaseStory

# Years ahead: these overdue tasks must not crowd the real clock's alert lists of other tests.
NOW = datetime(2036, 11, 12, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SUPERVISOR = SimpleNamespace(roles={"supervisor"}, department=None, street=None)


def liaison(department: str) -> SimpleNamespace:
    return SimpleNamespace(roles={"liaison"}, department=department, street=None)


@pytest.fixture
def departments(engine: Engine, unique: str) -> dict[str, object]:
    store = EventStore(engine)
    water, roads = f"water-{unique}", f"roads-{unique}"

    def story() -> CaseStory:
        return CaseStory(store, category=f"cat-{unique}").received(NOW - 11 * HOUR)

    late = story()
    late_task = late.dispatched(NOW - 10 * HOUR, water, sign=2 * HOUR, contact=12 * HOUR)

    fresh = story()
    fresh_task = fresh.dispatched(NOW - HOUR, water)
    fresh.signed(NOW - 30 * MINUTE, fresh_task)

    replied = story()
    task = replied.dispatched(NOW - 10 * HOUR, water, sign=HOUR)
    replied.replied(NOW - 9 * HOUR, task)

    returned = story()
    returned_task = returned.dispatched(NOW - 10 * HOUR, water, sign=HOUR)
    returned.return_approved(NOW - 9 * HOUR, returned_task)

    parked = story()
    parked.dispatched(NOW - 10 * HOUR, water, sign=HOUR)
    parked.parked(NOW - 9 * HOUR)

    merged = story()
    merged.dispatched(NOW - 10 * HOUR, water, sign=HOUR)
    merged.merged(NOW - 9 * HOUR)

    other = story()
    other_task = other.dispatched(NOW - 3 * HOUR, roads, sign=2 * HOUR)

    runner = ProjectionRunner(engine, [KpiProjection()])
    runner.ensure_tables()
    runner.catch_up("kpi")
    return {
        "water": water, "roads": roads, "late": late_task, "other": other_task,
        "returned": returned_task,
    }  # fmt: skip


def test_a_missed_deadline_is_red_and_a_near_one_yellow(engine, departments) -> None:
    with engine.connect() as conn:
        alerts = overdue_alerts(conn, SUPERVISOR, now=NOW, department=departments["water"])

    assert [(a["task_id"], a["stage"], a["level"]) for a in alerts] == [
        (departments["late"], "sign", "red"),
        (departments["late"], "contact", "yellow"),  # 10 h of 12 h gone, past warn_at 0.8
    ]
    sign, contact = alerts
    assert sign["overdue_by_seconds"] == 8 * 3600
    assert contact["overdue_by_seconds"] == -2 * 3600  # two hours left
    assert sign["deadline"] == (NOW - 8 * HOUR).astimezone(sign["deadline"].tzinfo)
    assert set(sign) >= {"task_id", "case_id", "case_no", "department", "stage", "level",
                         "deadline", "overdue_by_seconds"}  # fmt: skip


def test_done_returned_parked_and_merged_tasks_raise_nothing(engine, departments) -> None:
    with engine.connect() as conn:
        alerts = overdue_alerts(conn, SUPERVISOR, now=NOW, department=departments["water"])
    assert {a["task_id"] for a in alerts} == {departments["late"]}


def test_a_liaison_sees_its_own_department_only(engine, departments) -> None:
    with engine.connect() as conn:
        own = overdue_alerts(conn, liaison(departments["roads"]), now=NOW)
        assert [a["task_id"] for a in own] == [departments["other"]]
        with pytest.raises(OutOfScope):
            overdue_alerts(
                conn, liaison(departments["roads"]), now=NOW, department=departments["water"]
            )


def test_alerts_need_no_timer_events(engine, departments) -> None:
    # Nothing raised SlaWarningRaised above; a later clock alone turns the contact red.
    with engine.connect() as conn:
        later = overdue_alerts(
            conn, SUPERVISOR, now=NOW + 3 * HOUR, department=departments["water"]
        )
    assert {(a["stage"], a["level"]) for a in later if a["task_id"] == departments["late"]} == {
        ("sign", "red"),
        ("contact", "red"),
    }


def test_as_of_gives_the_alerts_as_the_log_stood_then(engine, departments) -> None:
    # Ten minutes before the returned task's sign deadline (NOW - 9 h) it was yellow, and
    # the late task (dispatched NOW - 10 h, sign within 2 h) had not reached its yellow line.
    then = NOW - 9 * HOUR - 10 * MINUTE
    with engine.connect() as conn:
        past = overdue_alerts(
            conn, SUPERVISOR, now=NOW, as_of=then, department=departments["water"]
        )
        before_dispatch = overdue_alerts(
            conn, SUPERVISOR, now=NOW, as_of=NOW - 11 * HOUR, department=departments["water"]
        )
    # The replied, returned and merged tasks were all still open then (the parked one is
    # left out: the facts keep no history of parking, see dispatch.queries.alerts).
    assert len(past) == 3 and departments["returned"] in {a["task_id"] for a in past}
    assert departments["late"] not in {a["task_id"] for a in past}
    assert {(a["stage"], a["level"], a["overdue_by_seconds"]) for a in past} == {
        ("sign", "yellow", -10 * 60)
    }
    assert before_dispatch == []
