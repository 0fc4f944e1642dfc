"""Many processes, killed and restarted under load (DESIGN.md §8.10, issue 15 item 3).

Two API processes, three workers and two schedulers, each its own OS process, on a scratch
PostgreSQL database and a Redis of the test's own. Concurrent clients carry every case
through intake → dispatch (by the workers) → sign → reply → callback → close, switching to
the other API process when one does not answer. Meanwhile one API process, one worker and
the active scheduler are SIGKILLed and restarted, and Redis is killed and started again
(empty). Afterwards every case is closed exactly once and dispatched once, every projection
equals its rebuild, and ``dispatch verify`` passes.

``DISPATCH_SOAK_CASES`` cases (300 here, so CI finishes in a few minutes on two cores;
``make soak`` runs 2,000) from ``DISPATCH_SOAK_CLIENTS`` clients (12).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from dispatch.projections import ProjectionRunner, default_projections
from events import as_utc
from events.database import make_engine
from workers.scheduler import LEADER_KEY

from worlds.processes import PASSWORD, Dispatch, RedisServer, add_staff, prepared_database
from worlds.projection_story import rows_of
from worlds.scenarios import API, COMPLAINT

CASES = int(os.environ.get("DISPATCH_SOAK_CASES", "300"))
CLIENTS = int(os.environ.get("DISPATCH_SOAK_CLIENTS", "12"))
APIS, WORKERS, SCHEDULERS = ("api-1", "api-2"), ("worker-1", "worker-2", "worker-3"), ("a", "b")
STALE_READS: list[str] = []
STEP_DEADLINE = 180.0  # one step may wait this long through the outages

pytestmark = [pytest.mark.postgres_only, pytest.mark.soak, pytest.mark.timeout(1800)]


class Clerk:
    """One client: calls either API process, moving to the other when one does not answer
    (killed, restarting) or sheds the call (503), until ``STEP_DEADLINE``."""

    def __init__(self, bases: list[str], tokens: dict[str, str], start: int) -> None:
        self.bases = bases
        self.tokens = tokens
        self.turn = start
        self.client = httpx.Client(timeout=15)

    def call(
        self, who: str, method: str, path: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            base = self.bases[self.turn % len(self.bases)]
            try:
                answer = self.client.request(
                    method,
                    f"{base}{API}{path}",
                    json=body,
                    headers={"Authorization": f"Bearer {self.tokens[who]}", **headers},
                )
                if answer.status_code not in (502, 503, 504):
                    return answer
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path}: no answer within {STEP_DEADLINE} s")
            self.turn += 1
            time.sleep(0.2)

    def case(self, case_id: str) -> dict[str, Any]:
        """The case as the API shows it. Read-your-writes holds within one process; across
        two, under this load, the other process's projection may not have the case yet
        (it waits only so long for a busy runner): a 404 then is retried, and counted."""
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            answer = self.call("operator", "GET", f"/cases/{case_id}")
            if answer.status_code != 404 or time.monotonic() > deadline:
                break
            STALE_READS.append(case_id)
            time.sleep(0.2)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def until(
        self, case_id: str, what: str, done: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            case = self.case(case_id)
            if done(case):
                return case
            if time.monotonic() > deadline:
                raise AssertionError(f"case {case_id}: never {what}: {case}")
            time.sleep(0.25)

    def act(
        self,
        who: str,
        path: str,
        body: Any,
        case_id: str,
        what: str,
        done: Callable[[dict[str, Any]], bool],
    ) -> None:
        """POST a command; an answer lost to a kill is retried, and a 409 that says the
        command was already done (its first answer lost) counts as done."""
        deadline = time.monotonic() + STEP_DEADLINE
        while True:
            answer = self.call(who, "POST", path, body)
            if answer.is_success:
                return
            assert answer.status_code == 409, f"{path}: {answer.status_code} {answer.text}"
            if done(self.case(case_id)):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"case {case_id}: never {what}")
            time.sleep(0.2)


def lead(case: dict[str, Any]) -> dict[str, Any] | None:
    return next((t for t in case.get("tasks", []) if t["role"] == "lead"), None)


def carry(clerk: Clerk, n: int, run: str) -> str:
    body = {**COMPLAINT, "description": f"压测 {run} 第{n}件 油烟直排"}
    answer = clerk.call("operator", "POST", "/cases", body, **{"Idempotency-Key": f"{run}-{n}"})
    assert answer.status_code in (200, 201), answer.text
    case_id = str(answer.json()["id"])
    case = clerk.until(case_id, "dispatched", lambda c: lead(c) is not None)
    task = lead(case)
    assert task is not None
    task_id = task["id"]

    def task_state(c: dict[str, Any]) -> str:
        found = lead(c)
        return found["state"] if found else ""

    clerk.act(
        "liaison",
        f"/tasks/{task_id}/sign",
        {},
        case_id,
        "signed",
        lambda c: task_state(c) not in ("", "dispatched"),
    )
    clerk.act(
        "liaison",
        f"/tasks/{task_id}/reply",
        {"resolution": "已加装油烟净化器"},
        case_id,
        "replied",
        lambda c: c["status"] in ("replied", "closed"),
    )
    callback = {"solved": "solved", "satisfaction": "satisfied"}
    clerk.act(
        "operator",
        f"/cases/{case_id}/callback",
        callback,
        case_id,
        "called back",
        lambda c: c["status"] == "closed" or bool(c.get("callbacks") or c.get("callback")),
    )
    clerk.act(
        "operator",
        f"/cases/{case_id}/close",
        {},
        case_id,
        "closed",
        lambda c: c["status"] == "closed",
    )
    return case_id


class Chaos(threading.Thread):
    """Kills and restarts as the cases close: an API process, a worker, the active scheduler,
    then Redis."""

    def __init__(
        self, processes: Dispatch, server: RedisServer, progress: Callable[[], int]
    ) -> None:
        super().__init__(daemon=True)
        self.processes, self.server, self.progress = processes, server, progress
        self.done: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._wait(0.15)
            self.processes.kill("api-1")
            self.processes.start("api-1", "serve")
            self.done.append("api-1 killed and restarted")
            self._wait(0.30)
            self.processes.kill("worker-1")
            self.processes.start("worker-1", "worker", "--quiet")
            self.done.append("worker-1 killed and restarted")
            self._wait(0.45)
            leader = self._leader()
            self.processes.kill(leader)
            self.processes.start(leader, "scheduler", "--quiet")
            self.done.append(f"active scheduler {leader} killed and restarted")
            self._wait(0.60)
            self.server.stop()
            time.sleep(1.0)
            self.server.start()
            self.done.append("Redis killed and started again, empty")
        except BaseException as error:  # reported by the test, not lost in a thread
            self.error = error

    def _wait(self, fraction: float) -> None:
        while self.progress() < fraction * CASES:
            time.sleep(0.2)

    def _leader(self) -> str:
        holder = redis.Redis.from_url(self.server.url, decode_responses=True).get(LEADER_KEY) or ""
        for name in SCHEDULERS:
            if f"-{self.processes.processes[f'scheduler-{name}'].pid}-" in holder:
                return f"scheduler-{name}"
        raise AssertionError(f"no scheduler of ours holds the lease ({holder!r})")


def plain(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: sorted(
            tuple(as_utc(v) if isinstance(v, datetime) else v for v in row) for row in rows
        )
        for name, rows in tables.items()
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Dispatch, RedisServer, str]]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    with prepared_database("soak", tmp_path) as url:
        add_staff(url, "operator", "operator")
        add_staff(url, "liaison", "liaison", department="envir")
        processes = Dispatch(url, server.url, tmp_path / "logs", scheduler_lease_seconds="3")
        try:
            yield processes, server, url
        finally:
            processes.stop_all()
            server.stop()


def test_cases_survive_killed_processes_and_a_redis_restart(
    world: tuple[Dispatch, RedisServer, str],
) -> None:
    processes, server, url = world
    for name in SCHEDULERS:
        processes.start(f"scheduler-{name}", "scheduler", "--quiet")
    for name in WORKERS:
        processes.start(name, "worker", "--quiet")
    for name in APIS:
        processes.start(name, "serve")
    bases = [processes.base(name) for name in APIS]
    tokens = {
        who: httpx.post(
            f"{bases[0]}{API}/auth/token", data={"username": who, "password": PASSWORD}
        ).json()["access_token"]
        for who in ("operator", "liaison")
    }
    run = uuid.uuid4().hex[:8]
    closed: list[str] = []
    chaos = Chaos(processes, server, lambda: len(closed))
    chaos.start()
    started = time.monotonic()

    def one(n: int) -> None:
        clerk = Clerk(bases, tokens, start=n)
        closed.append(carry(clerk, n, run))

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        for future in [pool.submit(one, n) for n in range(CASES)]:
            future.result()
    took = time.monotonic() - started
    chaos.join(60)
    assert chaos.error is None, chaos.error
    assert len(chaos.done) == 4, chaos.done
    processes.stop_all()
    stopped = time.monotonic()

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            counts = dict(
                conn.execute(
                    sa.text(
                        "SELECT type, count(*) FROM events WHERE stream_id IN :ids "
                        "AND type IN ('CaseReceived', 'CaseDispatched', 'CaseClosed') "
                        "GROUP BY type"
                    ).bindparams(sa.bindparam("ids", expanding=True)),
                    {"ids": closed},
                ).all()
            )
            per_case = conn.execute(
                sa.text(
                    "SELECT stream_id, count(*) FROM events WHERE type = 'CaseClosed' "
                    "GROUP BY stream_id HAVING count(*) <> 1"
                )
            ).all()
        assert len(set(closed)) == CASES
        assert counts == {"CaseReceived": CASES, "CaseDispatched": CASES, "CaseClosed": CASES}
        assert per_case == []

        runner = ProjectionRunner(engine, default_projections())
        runner.catch_up()
        for projection in default_projections():
            kept = plain(rows_of(engine, runner, projection.name))
            runner.rebuild(projection.name)
            assert plain(rows_of(engine, runner, projection.name)) == kept, projection.name
    finally:
        engine.dispose()
    checked = time.monotonic()

    verified = subprocess.run(
        [sys.executable, "-m", "workers", "verify"],
        env=processes.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(
        f"\n{CASES} cases closed in {took:.0f} s with {CLIENTS} clients through: "
        + "; ".join(chaos.done)
        + f"; {len(STALE_READS)} reads of a just-filed case answered 404 first; "
        f"checks {checked - stopped:.0f} s, verify {time.monotonic() - checked:.0f} s"
    )
