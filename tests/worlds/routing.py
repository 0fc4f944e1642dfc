"""A world for the routing pipeline's tests: a database and a Redis database of its own, a
catalogue, and the pieces (relay, workers, reconciler, scheduler) to run on them.

Every world gets a fresh database — the relay reads the *whole* log, so it must never run on
the session database other tests write to — and claims a Redis database index (1–15) on the
test Redis, so two test sessions sharing a server never serve each other's queues.
Workers are real: ``work()`` runs an RQ ``SimpleWorker`` in burst mode in this process (RQ's
testing recipe); ``spawn_worker()`` starts ``dispatch worker`` as a child process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import sqlalchemy as sa

from dispatch.bootstrap import Container, bootstrap
from dispatch.catalogue.versions import load_catalogue
from dispatch.delivery.queues import (
    ROUTING,
    TIMERS,
    department_queue,
    job_status,
    queue,
    route_case_job,
)
from dispatch.delivery.state import deliveries
from dispatch.handlers import Complaint, Issuer, new_case_id
from dispatch.handlers.actor import SystemActor
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings
from events.schema import events
from workers import jobs
from workers.reconciler import Reconciler
from workers.relay import Relay
from workers.scheduler import Periods, Scheduler
from workers.worker import DispatchWorker

from worlds.databases import TEST_DATABASE_URL, temporary_database

OPERATOR = SystemActor(username="operator-test", roles=frozenset({"operator"}))
DEPARTMENTS = ("water", "roads", "city")
QUEUES = [ROUTING, TIMERS, *(department_queue(code) for code in DEPARTMENTS)]
WEBHOOK_SECRET = "s3cret-for-tests-0123456789abcdef-xyz"  # ≥ 32 characters

CATALOGUE = """
version: "routing-{label}"
timezone: Asia/Shanghai
departments:
  - {{code: water, name: 自来水公司, delivery: {{type: inbox}}}}
  - {{code: roads, name: 市政道路, delivery: {{type: inbox}}}}
  - code: city
    name: 城管执法
    # The test receiver listens on 127.0.0.1 without TLS: plain http, said explicitly.
    delivery: {{type: webhook, url: "{webhook}", secret: "{secret}", allow_http: true}}
categories:
  - {{code: water.outage, name: 停水, sla: quick}}
  - {{code: road.pothole, name: 道路坑洼, sla: quick}}
  - {{code: city.stall, name: 占道经营, sla: quick}}
routing:
  - {{id: R-water, category: "water.*", lead: water}}
  - {{id: R-road, category: "road.*", lead: roads, assist: [water]}}
  - {{id: R-city, category: "city.*", lead: city}}
sla:
  quick: {{sign: 1h, contact: 2h, reply: 4h, warn_at: 0.5}}
"""


def catalogue_text(webhook: str = "http://127.0.0.1:9/unused") -> str:
    return CATALOGUE.format(label=uuid.uuid4().hex[:8], webhook=webhook, secret=WEBHOOK_SECRET)


# -- a database and a Redis database of one's own ---------------------------------------------


def fresh_database(folder: Path) -> AbstractContextManager[str]:
    """A migrated, empty database: on the test PostgreSQL server, else a SQLite file."""
    return temporary_database(
        TEST_DATABASE_URL, name="routing", sqlite_folder=folder, migrate=prepare_database
    )


def with_db(url: str, index: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [p for p in parts.query.split("&") if p and not p.startswith("db=")]
        return f"unix://{parts.path}?{'&'.join([*query, f'db={index}'])}"
    return urlunsplit(parts._replace(path=f"/{index}"))


@contextmanager
def claimed_redis(server_url: str) -> Iterator[str]:
    """A Redis database index no other test session is using, emptied before and after."""
    base = redis.Redis.from_url(with_db(server_url, 0))
    token = uuid.uuid4().hex
    for index in list(range(1, 16)) * 20:
        if base.set(f"street-whistle-tests:db:{index}", token, nx=True, ex=900):
            break
        time.sleep(0.05)
    else:
        raise RuntimeError("every Redis database 1-15 is claimed by another test session")
    url = with_db(server_url, index)
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    try:
        yield url
    finally:
        connection.flushdb()
        if base.get(f"street-whistle-tests:db:{index}") == token.encode():
            base.delete(f"street-whistle-tests:db:{index}")


# -- the world -------------------------------------------------------------------------------


class Clock:
    """A clock the test moves; the workers in this process read it through the Container."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    database_url: str
    redis_url: str
    container: Container
    connection: redis.Redis
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def build(
        cls, database_url: str, redis_url: str, *, clock: Callable[[], datetime] | None = None
    ) -> World:
        settings = Settings(database_url=database_url, redis_url=redis_url)
        container = bootstrap(settings, clock=clock) if clock is not None else bootstrap(settings)
        world = cls(database_url, redis_url, container, redis.Redis.from_url(redis_url))
        jobs.use_container(container)
        return world

    def close(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait()
        jobs.use_container(None)
        self.container.close()

    # -- inputs ---------------------------------------------------------------------------

    def load_catalogue(self, text: str | None = None) -> None:
        load_catalogue(self.container.engine, text or catalogue_text(), loaded_by="tests")

    def submit(self, category: str = "water.outage", *, description: str = "停水两天") -> str:
        complaint = Complaint(
            channel="phone", category=category, description=description, urgency="normal"
        )
        issuer = Issuer(actor=OPERATOR, role="operator")
        return self.container.handle(new_case_id(), complaint, issuer).case_id

    # -- the pipeline, step by step -------------------------------------------------------

    def relay(self) -> int:
        c = self.container
        relay = Relay(c.engine, self.connection, catalogue=c.catalogue_source, clock=c.clock)
        total = 0
        while count := relay.run_once():
            total += count
        return total

    def work(self, queues: list[str] | None = None) -> bool:
        """Run every queued job with a real RQ worker in burst mode, in this process."""
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            worker = DispatchWorker(queues or QUEUES, connection=self.connection)
            return worker.work(burst=True, logging_level="WARNING")
        finally:
            for signum, handler in saved.items():
                signal.signal(signum, handler)

    def settle(self, rounds: int = 4) -> None:
        """Relay and work until nothing new happens: case → route → deliver."""
        for _ in range(rounds):
            relayed = self.relay()
            worked = self.work()
            if not relayed and not worked:
                return

    def reconcile(self, grace: timedelta = timedelta(0)) -> object:
        return Reconciler(self.container, self.connection, grace=grace).run_once()

    @contextmanager
    def scheduler(self, periods: Periods | None = None) -> Iterator[Scheduler]:
        """The real scheduler, its loops in threads of this process."""
        scheduler = Scheduler(
            self.container,
            self.connection,
            periods=periods or Periods(poll=0.02, lease=3, sla_scan=0.5, reconcile=0.5, grace=0.5),
        )
        stop = threading.Event()
        thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
        thread.start()
        try:
            yield scheduler
        finally:
            stop.set()
            thread.join(timeout=30)

    def spawn_worker(self, *queues: str) -> subprocess.Popen[bytes]:
        """``dispatch worker`` as a child process on this world's database and Redis."""
        env = {
            **os.environ,
            "DISPATCH_DATABASE_URL": self.database_url,
            "DISPATCH_REDIS_URL": self.redis_url,
        }
        child = subprocess.Popen(
            [sys.executable, "-m", "workers", "worker", "--quiet", *queues],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.children.append(child)
        return child

    # -- what happened --------------------------------------------------------------------

    def dispatches(self) -> Counter[str]:
        """How many ``CaseDispatched`` events each task id has."""
        query = sa.select(events.c.data).where(events.c.type == "CaseDispatched")
        with self.container.engine.connect() as conn:
            return Counter(data["task_id"] for data in conn.execute(query).scalars())

    def routed_cases(self) -> set[str]:
        query = sa.select(events.c.stream_id).where(events.c.type == "CaseDispatched").distinct()
        with self.container.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def delivery_states(self) -> dict[str, str]:
        query = sa.select(deliveries.c.task_id, deliveries.c.state)
        with self.container.engine.connect() as conn:
            return {task_id: state for task_id, state in conn.execute(query)}

    def inbox(self) -> dict[str, set[str]]:
        """Task ids per department, as the department inbox projection shows them."""
        self.container.projector.catch_up()
        query = sa.text("SELECT department, id FROM case_tasks")
        found: dict[str, set[str]] = {}
        with self.container.engine.connect() as conn:
            for department, task_id in conn.execute(query):
                found.setdefault(department, set()).add(task_id)
        return found

    def events_of(self, case_id: str, type_: str) -> list[dict[str, object]]:
        return [e.data for e in self.container.store.read_stream(case_id) if e.type == type_]

    def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float,
        what: str,
        explain: Callable[[], str] = lambda: "",
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting until {what}{explain()}")
            time.sleep(0.1)

    def explain_undelivered(self, tasks: set[str]) -> str:
        """Where the unfinished work is: for a failure message."""
        states = self.delivery_states()
        missing = sorted(t for t in tasks if states.get(t) != "delivered")
        lines = [f"; {len(missing)} of {len(tasks)} tasks not delivered"]
        for task_id in missing[:5]:
            case_id = task_id.rsplit("-", 1)[0]
            routed = bool(self.events_of(case_id, "CaseDispatched"))
            route = job_status(self.connection, route_case_job(case_id).id)
            lines.append(
                f"{task_id}: routed={routed} route job={route} delivery={states.get(task_id)}"
            )
        queues = {name: queue(name, self.connection).count for name in QUEUES}
        lines.append(f"queues={queues} head={self.container.store.head_position()}")
        return "\n".join(lines)


@pytest.fixture
def world(tmp_path: Path, redis_url: str) -> Iterator[World]:
    """A world with its own database and Redis database and the routing catalogue loaded."""
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        world = World.build(database_url, own_redis)
        world.load_catalogue()
        try:
            yield world
        finally:
            world.close()
