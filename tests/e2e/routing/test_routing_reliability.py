"""Nothing lost, nothing twice: real ``dispatch worker`` processes killed with SIGKILL, and
Redis flushed, while cases pour in. The scheduler (relay, reconciler, retries) runs in this
process with short periods; everything else is the production code path."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Worker
from rq.worker import WorkerStatus

from dispatch.ops.embedded_redis import EmbeddedRedis
from workers.scheduler import Periods

from worlds.routing import World, fresh_database

pytestmark = pytest.mark.slow

KILLS = 3
FAST = Periods(poll=0.05, lease=3, sla_scan=30, reconcile=1.0, grace=1.0)
# Mostly one task per case; every tenth a lead and an assist (two deliveries, two inboxes).
CATEGORIES = ("road.pothole",) + ("water.outage",) * 9


def submit_all(  # type: ignore[no-untyped-def]
    world: World,
    count: int,
    submitted: list[str],
    *,
    midway=None,
    until: threading.Event | None = None,
) -> None:
    """``count`` cases, and more while ``until`` is not set (work for a worker to be killed
    in the middle of, however fast the others drain the queues)."""
    index = 0
    while index < count or (until is not None and not until.is_set()):
        category = CATEGORIES[index % len(CATEGORIES)]
        submitted.append(world.submit(category, description=f"第{index}号诉求"))
        if midway is not None and index == count // 2:
            midway()
        index += 1


def expected_tasks(submitted: list[str]) -> set[str]:
    tasks = set()
    for index, case_id in enumerate(submitted):
        tasks.add(f"{case_id}-1")
        if CATEGORIES[index % len(CATEGORIES)] == "road.pothole":
            tasks.add(f"{case_id}-2")
    return tasks


def everything_done(world: World, tasks: set[str]) -> bool:
    states = world.delivery_states()
    return all(states.get(task) == "delivered" for task in tasks)


def assert_each_task_dispatched_once_and_in_its_inbox(world: World, tasks: set[str]) -> None:
    dispatches = world.dispatches()
    assert set(dispatches) == tasks
    assert set(dispatches.values()) == {1}, "a task was dispatched twice"
    inbox = world.inbox()
    assert inbox["water"] | inbox["roads"] == tasks
    assert all(task.endswith("-1") for task in inbox["roads"])  # roads only ever leads


def kill_in_the_middle_of_a_job(world: World, victim: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker once it has started on the queue and is busy with a job."""

    def busy() -> bool:
        return any(
            w.pid == victim.pid and w.get_state() == WorkerStatus.BUSY
            for w in Worker.all(connection=world.connection)
        )

    world.wait_until(busy, timeout=60, what="the worker about to be killed is busy")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()


def test_500_cases_while_a_worker_is_killed_repeatedly_are_each_dispatched_once(world: World):
    submitted: list[str] = []
    with world.scheduler(FAST):
        steady = world.spawn_worker()
        victim = world.spawn_worker()
        killed = threading.Event()
        feeding = threading.Thread(
            target=submit_all, args=(world, 500, submitted), kwargs={"until": killed}
        )
        feeding.start()
        for _kill in range(KILLS):
            kill_in_the_middle_of_a_job(world, victim)
            victim = world.spawn_worker()
        killed.set()
        feeding.join()
        tasks = expected_tasks(submitted)
        world.wait_until(
            lambda: everything_done(world, tasks),
            timeout=240,  # ~35 s on a quiet machine; generous for a loaded CI runner
            what="every task is delivered",
            explain=lambda: world.explain_undelivered(tasks),
        )
        assert steady.poll() is None

    assert len(submitted) >= 500
    assert world.routed_cases() == set(submitted)
    assert_each_task_dispatched_once_and_in_its_inbox(world, tasks)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis server of this test's own: FLUSHALL must not empty anyone else's."""
    with EmbeddedRedis(tmp_path / "redis") as url:
        yield url


def test_flushall_in_the_middle_of_a_load_loses_nothing(tmp_path: Path, private_redis: str):
    submitted: list[str] = []
    with fresh_database(tmp_path) as database_url:
        world = World.build(database_url, private_redis)
        try:
            world.load_catalogue()
            world.spawn_worker()
            with world.scheduler(FAST):
                submit_all(world, 200, submitted, midway=world.connection.flushall)
                tasks = expected_tasks(submitted)
                world.wait_until(
                    lambda: everything_done(world, tasks),
                    timeout=120,
                    what="every task is delivered after FLUSHALL",
                    explain=lambda: world.explain_undelivered(tasks),
                )
            assert world.routed_cases() == set(submitted)
            assert_each_task_dispatched_once_and_in_its_inbox(world, tasks)
        finally:
            world.close()
