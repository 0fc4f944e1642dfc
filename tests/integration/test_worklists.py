"""Nobody's work is invisible (DESIGN.md §8.1): after any history of real commands, every case
that is not closed, answered, merged or parked is on at least one worklist, asked for by key
as the roles that own it; and the rules that need a clock (overdue, park reviews).

The property fails within a run if ``dispatch`` leaves out cases whose tasks were returned
(tried by hand: counting ``returned`` as a task in play).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fakes import FixedClock
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from dispatch.projections.case_list import CaseListProjection, live_tables
from dispatch.projections.case_list_indexes import WAITING
from dispatch.projections.hotspots import HotspotsProjection
from dispatch.projections.patrol_reports import PatrolReportsProjection
from dispatch.projections.runner import ProjectionRunner
from dispatch.queries.worklist_items import Moment, worklist_counts, worklist_page
from dispatch.queries.worklist_keys import WORKLISTS, visible_worklists
from events import EventStore

from worlds.hotline_day import DEPARTMENTS, STREETS, HotlineDay

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
NOT_ON_ANY_LIST = ("closed", "answered", "merged", "parked")

PROPERTY = settings(
    max_examples=25,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking takes minutes here
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Staff:
    roles: frozenset[str]
    department: str | None = None
    street: str | None = None


OWNERS = (
    Staff(frozenset({"dispatcher"})),
    Staff(frozenset({"operator"})),
    *(Staff(frozenset({"liaison"}), department=code) for code in DEPARTMENTS),
    *(Staff(frozenset({"street"}), street=code) for code in STREETS),
)


@pytest.fixture
def projector(scratch_engine: Engine) -> ProjectionRunner:
    # patrol_reports and hotspots too: the street's 漏巡 and 主动治理 lists read them (they hold
    # rounds and hotspots, not cases)
    projections = [CaseListProjection(), PatrolReportsProjection(), HotspotsProjection()]
    runner = ProjectionRunner(scratch_engine, projections)
    runner.ensure_tables()
    return runner


def a_day(runner: ProjectionRunner) -> HotlineDay:
    """A new day's cases on the runner's store (earlier examples' cases stay, and count)."""
    return HotlineDay(EventStore(runner.engine), FixedClock(START))


def moment(day: HotlineDay) -> Moment:
    now = day.clock.now
    return Moment(now=now, today=(now + timedelta(hours=8)).date())


def on_worklists(engine: Engine, at: Moment) -> dict[str, set[str]]:
    """Each case id → the worklist keys it is on, asking every owner for its lists."""
    found: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for viewer in OWNERS:
            for listed in visible_worklists(viewer):
                items, total = worklist_page(conn, viewer, listed.key, at=at, page_size=500)
                assert total == len(items) < 500
                counts = worklist_counts(conn, viewer, [listed], at=at)
                assert counts[listed.key] == total
                for item in items if listed.holds in ("case", "task") else ():
                    case_id = item["id"] if listed.holds == "case" else item["case_id"]
                    found.setdefault(case_id, set()).add(listed.key)
    return found


def open_cases(engine: Engine) -> dict[str, str]:
    cases = live_tables()["case_list"]
    query = sa.select(cases.c.id, cases.c.status).where(cases.c.status.not_in(NOT_ON_ANY_LIST))
    with engine.connect() as conn:
        return {row.id: row.status for row in conn.execute(query)}


def waiting_for_dispatch(engine: Engine) -> set[str]:
    """待派单 as §8.1 words it: open cases with no task of the current round in play."""
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    in_play = sa.exists().where(
        tasks.c.case_id == cases.c.id,
        tasks.c.round == cases.c.reopen_count,
        tasks.c.state.not_in(("returned", "cancelled")),
    )
    query = sa.select(cases.c.id).where(cases.c.status.not_in(NOT_ON_ANY_LIST), ~in_play)
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def tasks_the_lists_would_miss(engine: Engine) -> list[str]:
    """What the lists' queries take for granted: every task's case is on the case list, and
    a waiting task's case counts it among its ``open_tasks``."""
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    joined = tasks.outerjoin(cases, cases.c.id == tasks.c.case_id)
    query = sa.select(tasks.c.id).select_from(joined)
    query = query.where(
        sa.or_(
            cases.c.id.is_(None),
            sa.and_(tasks.c.state.in_(WAITING), cases.c.open_tasks == 0),
        )
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


@PROPERTY
@given(data=st.data())
def test_every_open_case_is_on_at_least_one_worklist(
    projector: ProjectionRunner, data: st.DataObject
) -> None:
    day, runner = a_day(projector), projector

    def pick(options: Sequence[Any]) -> Any:
        return data.draw(st.sampled_from(list(options)))

    tried = []
    for _ in range(data.draw(st.integers(5, 60))):
        if data.draw(st.integers(0, 9)) == 0:
            day.wait(data.draw(st.sampled_from((1, 6, 30, 200))))
        tried.append(day.step(pick))
    runner.catch_up()

    found = on_worklists(runner.engine, moment(day))
    lost = {case_id: status for case_id, status in open_cases(runner.engine).items()}
    lost = {case_id: status for case_id, status in lost.items() if case_id not in found}
    assert not lost, f"open cases on no worklist: {lost} after {tried}"
    listed = {case_id for case_id, keys in found.items() if "dispatch" in keys}
    assert listed == waiting_for_dispatch(runner.engine), tried  # the status says it all
    assert not tasks_the_lists_would_miss(runner.engine), tried


def test_an_overdue_task_is_on_overdue_for_the_centre_and_its_own_department_only(
    projector: ProjectionRunner,
) -> None:
    day, runner = a_day(projector), projector
    case_id = day.call("env.smoke", "XYL-02")
    assert day.route(case_id)
    runner.catch_up()
    dispatcher = Staff(frozenset({"dispatcher"}))
    own = Staff(frozenset({"liaison"}), department="envir")
    other = Staff(frozenset({"liaison"}), department="water")

    with runner.engine.connect() as conn:
        before, _ = worklist_page(conn, dispatcher, "overdue", at=moment(day), page_size=500)
    day.wait(24 * 30)
    with runner.engine.connect() as conn:
        after, _ = worklist_page(conn, dispatcher, "overdue", at=moment(day), page_size=500)
        mine, _ = worklist_page(conn, own, "overdue", at=moment(day), page_size=500)
        theirs, _ = worklist_page(conn, other, "overdue", at=moment(day), page_size=500)

    assert case_id not in {item["case_id"] for item in before}
    late = [item for item in after if item["case_id"] == case_id]
    assert [item["due"]["stage"] for item in late] == ["sign"]
    assert late[0]["due"]["overdue"] is True
    assert case_id in {item["case_id"] for item in mine}
    assert case_id not in {item["case_id"] for item in theirs}


def test_the_keys_are_unique_and_every_role_owns_some_list() -> None:
    keys = [w.key for w in WORKLISTS]
    assert len(keys) == len(set(keys))
    for role in ("operator", "dispatcher", "liaison", "street", "supervisor", "admin"):
        assert visible_worklists(Staff(frozenset({role}))), role
