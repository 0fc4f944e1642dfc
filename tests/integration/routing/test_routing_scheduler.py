"""Two schedulers are safe: one leads, the other stands by and takes over when it stops."""

from __future__ import annotations

import threading
import time

from events.integrity import verify_log
from events.seals import Seal, latest_seal
from workers.scheduler import LEADER_KEY, Periods, Scheduler

from worlds.routing import World

QUICK = Periods(poll=0.02, lease=1.0, sla_scan=60, reconcile=60)
NO_SEAL = Seal(position=0, event_count=0, cumulative_hash="")


def start(scheduler: Scheduler) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_one_of_two_schedulers_leads_and_the_other_takes_over_when_it_stops(world: World):
    first = Scheduler(world.container, world.connection, periods=QUICK, name="first")
    second = Scheduler(world.container, world.connection, periods=QUICK, name="second")
    runs = {s.name: start(s) for s in (first, second)}
    try:
        wait_for(lambda: first.leading.is_set() or second.leading.is_set())
        for _ in range(10):  # never both, over several renewals
            assert not (first.leading.is_set() and second.leading.is_set())
            time.sleep(0.1)
        leader, standby = (first, second) if first.leading.is_set() else (second, first)
        assert world.connection.get(LEADER_KEY) == leader.name.encode()

        stop, thread = runs[leader.name]
        stop.set()
        thread.join(timeout=10)

        wait_for(standby.leading.is_set, timeout=5)
        assert world.connection.get(LEADER_KEY) == standby.name.encode()
    finally:
        for stop, thread in runs.values():
            stop.set()
            thread.join(timeout=10)


def test_the_leader_relays_new_cases_and_keeps_the_inbox_current(world: World):
    case_id = world.submit()

    def delivered() -> bool:
        world.work()  # the jobs the scheduler's relay enqueued so far
        return bool(world.delivery_states())

    with world.scheduler():
        world.wait_until(delivered, timeout=15, what="the task is delivered")
        world.wait_until(lambda: bool(world.inbox()), timeout=5, what="the inbox shows it")

    assert world.delivery_states() == {f"{case_id}-1": "delivered"}
    assert world.inbox() == {"water": {f"{case_id}-1"}}


def test_the_leader_seals_the_log_every_period_and_verify_agrees(world: World):
    world.submit()
    seals = Periods(poll=0.02, lease=1.0, sla_scan=60, reconcile=60, seal=0.2)

    with world.scheduler(seals):
        world.wait_until(
            lambda: (latest_seal(world.container.engine) or NO_SEAL).position > 0,
            timeout=10,
            what="a first seal",
        )
        sealed = latest_seal(world.container.engine)
        world.submit()
        world.wait_until(
            lambda: latest_seal(world.container.engine).position > sealed.position,  # type: ignore[union-attr]
            timeout=10,
            what="a seal covering the second case",
        )

    assert verify_log(world.container.engine).ok
