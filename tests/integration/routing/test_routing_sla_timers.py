"""SLA timers: yellow at warn_at, red at the deadline, once each, re-derived from the log.

The catalogue's ``quick`` policy: sign 1h, contact 2h, reply 4h, warn_at 0.5 — so the sign
stage turns yellow 30 minutes after dispatch and red after an hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dispatch.delivery.queues import TIMERS, queue
from dispatch.domain.commands import SignTask
from dispatch.handlers import Issuer
from dispatch.handlers.actor import SystemActor
from workers import timers
from workers.scheduler import Periods

from worlds.routing import Clock, World, claimed_redis, fresh_database

LIAISON = SystemActor(username="liaison-water", department="water", roles=frozenset({"liaison"}))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, redis_url: str, clock: Clock) -> Iterator[World]:
    """A world whose jobs read the test's clock."""
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        world = World.build(database_url, own_redis, clock=clock)
        world.load_catalogue()
        try:
            yield world
        finally:
            world.close()


def warnings_of(world: World, case_id: str) -> list[tuple[str, str]]:
    return [(w["stage"], w["level"]) for w in world.events_of(case_id, "SlaWarningRaised")]


def scan(world: World) -> dict[str, int]:
    return timers.raise_due_warnings(world.container)


def test_yellow_at_warn_at_then_red_at_the_deadline_each_once(timed: World, clock: Clock):
    case_id = timed.submit()
    timed.settle()

    clock.advance(timedelta(minutes=29))
    scan(timed)
    assert warnings_of(timed, case_id) == []

    clock.advance(timedelta(minutes=2))
    scan(timed)
    scan(timed)
    assert warnings_of(timed, case_id) == [("sign", "yellow")]

    clock.advance(timedelta(minutes=30))  # 61 minutes: sign is overdue, contact turns yellow
    scan(timed)
    scan(timed)
    assert warnings_of(timed, case_id) == [
        ("sign", "yellow"),
        ("sign", "red"),
        ("contact", "yellow"),
    ]


def test_a_signed_task_gets_no_sign_warning_but_its_later_stages_still_run(
    timed: World, clock: Clock
):
    case_id = timed.submit()
    timed.settle()
    task_id = f"{case_id}-1"
    timed.container.handle(
        task_id, SignTask(task_id=task_id), Issuer(actor=LIAISON, role="liaison")
    )

    clock.advance(timedelta(hours=3))
    scan(timed)

    assert warnings_of(timed, case_id) == [("contact", "red"), ("reply", "yellow")]


def test_a_deadline_that_passes_while_the_scheduler_is_down_is_raised_once_when_it_returns(
    timed: World, clock: Clock
):
    case_id = timed.submit()
    with timed.scheduler():
        timed.wait_until(lambda: queue(TIMERS, timed.connection).count > 0, timeout=10, what="scan")
        timed.work()  # routes the case, delivers the task, scans: nothing due yet
        timed.wait_until(lambda: bool(timed.dispatches()), timeout=10, what="routed")
    assert warnings_of(timed, case_id) == []

    clock.advance(timedelta(minutes=70))  # the scheduler is down: sign_by passes unseen
    timers._runners.clear()  # and the workers restart: nothing remembered in memory
    timers._dropped.clear()

    with timed.scheduler():
        timed.wait_until(lambda: queue(TIMERS, timed.connection).count > 0, timeout=10, what="scan")
        timed.work()
    with timed.scheduler():
        timed.wait_until(lambda: queue(TIMERS, timed.connection).count > 0, timeout=10, what="scan")
        timed.work()

    raised = warnings_of(timed, case_id)
    assert raised.count(("sign", "red")) == 1
    assert ("sign", "yellow") not in raised  # moot once the stage is overdue


def test_timers_rebuilt_from_the_log_find_the_same_due_warnings(timed: World, clock: Clock):
    case_ids = [timed.submit() for _ in range(3)]
    timed.settle()
    clock.advance(timedelta(minutes=45))
    runner = timers.timers_runner(timed.container.engine)

    runner.rebuild("sla_timers")
    result = scan(timed)

    assert result["raised"] == 3
    assert all(warnings_of(timed, c) == [("sign", "yellow")] for c in case_ids)


def test_scheduler_periods_are_short_enough_for_minute_deadlines():
    assert Periods().sla_scan <= 60
