"""Redis stopped and the active scheduler killed (DESIGN.md §8.10), with the production
processes as separate OS processes on a Redis of the test's own.

Redis gone: intake still answers 201 (the log is the outbox); when Redis is back — empty —
the relay, the worker and the scheduler reconnect by themselves and the case filed during
the outage is dispatched. The active scheduler SIGKILLed: the standby takes the lease within
seconds and dispatch goes on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from events.database import make_engine
from workers.scheduler import LEADER_KEY

from worlds.processes import (
    PASSWORD,
    Dispatch,
    RedisServer,
    add_staff,
    prepared_database,
    wait_for,
)
from worlds.scenarios import API, COMPLAINT

LEASE = 2.0


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Dispatch, RedisServer, sa.Engine]]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    with prepared_database("outage", tmp_path) as url:
        add_staff(url, "operator", "operator")
        processes = Dispatch(url, server.url, tmp_path / "logs", scheduler_lease_seconds=str(LEASE))
        engine = make_engine(url)
        try:
            yield processes, server, engine
        finally:
            processes.stop_all()
            engine.dispose()
            server.stop()


def operator(base: str) -> httpx.Client:
    token = httpx.post(
        f"{base}{API}/auth/token", data={"username": "operator", "password": PASSWORD}
    ).json()["access_token"]
    return httpx.Client(base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"})


def file(client: httpx.Client) -> str:
    body: dict[str, Any] = {**COMPLAINT, "description": f"油烟直排 {uuid.uuid4().hex[:6]}"}
    answer = client.post(f"{API}/cases", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def dispatched(engine: sa.Engine, case_id: str) -> bool:
    query = sa.text("SELECT count(*) FROM events WHERE stream_id = :id AND type = 'CaseDispatched'")
    with engine.connect() as conn:
        return bool(conn.execute(query, {"id": case_id}).scalar_one())


def test_intake_answers_while_redis_is_down_and_dispatch_catches_up_when_it_returns(
    world: tuple[Dispatch, RedisServer, sa.Engine],
) -> None:
    processes, server, engine = world
    processes.start("api", "serve")
    processes.start("scheduler", "scheduler")
    processes.start("worker", "worker")
    with operator(processes.base("api")) as client:
        before = file(client)
        wait_for("dispatch before the outage", lambda: dispatched(engine, before), timeout=60)

        server.stop()
        during = [file(client) for _ in range(3)]
        time.sleep(3)  # long enough for every process to notice Redis is gone
        assert not any(dispatched(engine, case_id) for case_id in during)

        server.start()  # empty: the lease, the queues and the jobs are gone
        wait_for(
            "dispatch after Redis returned",
            lambda: all(dispatched(engine, case_id) for case_id in during),
            timeout=60,
        )
        after = file(client)
        wait_for("dispatch of a new case", lambda: dispatched(engine, after), timeout=30)
    for name in ("api", "scheduler", "worker"):
        assert processes.processes[name].poll() is None, f"{name} exited"


def test_the_standby_scheduler_takes_over_within_seconds_when_the_leader_is_killed(
    world: tuple[Dispatch, RedisServer, sa.Engine],
) -> None:
    processes, server, engine = world
    first = processes.start("scheduler-a", "scheduler")
    second = processes.start("scheduler-b", "scheduler")
    processes.start("worker", "worker")
    processes.start("api", "serve")
    leases = redis.Redis.from_url(server.url, decode_responses=True)
    wait_for("a leader", lambda: leases.get(LEADER_KEY) is not None, timeout=30)
    leader = leases.get(LEADER_KEY) or ""
    name, standby = (
        ("scheduler-a", second) if f"-{first.pid}-" in leader else ("scheduler-b", first)
    )
    assert f"-{processes.processes[name].pid}-" in leader

    processes.kill(name)
    took = wait_for(
        "the standby leading",
        lambda: f"-{standby.pid}-" in (leases.get(LEADER_KEY) or ""),
        timeout=LEASE * 8,
    )
    # One lease for it to lapse, a third of one for the standby's next try: slack on top
    # for a crowded test machine, still well inside "seconds".
    assert took <= LEASE * 4, f"the standby took {took:.1f} s"
    with operator(processes.base("api")) as client:
        case_id = file(client)
        wait_for("dispatch under the new leader", lambda: dispatched(engine, case_id), 30)
