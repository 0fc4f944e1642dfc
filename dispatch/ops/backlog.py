"""How much work is waiting: queue depths, relay and projection lag, failed deliveries.

Read by ``/readyz`` (as detail) and ``/metrics`` (as gauges). Each part is measured on its
own, so Redis being down still reports the database's figures and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
import sqlalchemy as sa
from rq import Queue, Worker
from rq.registry import FailedJobRegistry
from sqlalchemy.engine import Connection, Engine

from dispatch.catalogue.versions import active_catalogue
from dispatch.delivery.queues import DEPARTMENT_PREFIX, ROUTING, SERIALIZER, TIMERS, queue_names
from dispatch.delivery.state import count_deliveries, count_open_dead_letters, deliveries
from dispatch.projections.case_list import live_tables
from events import EventStore
from events.checkpoints import all_checkpoints
from events.database import read_only_connection

RELAY_CHECKPOINT = "relay"
# Checkpoints that are not a reader's progress: the reconciler's watermark holds back on
# purpose, and a rebuild's shadow checkpoint climbs from zero.
_NOT_LAG = ("reconciler",)


@dataclass
class Backlog:
    head: int | None = None
    relay_lag: int | None = None
    checkpoint_lag: dict[str, int] = field(default_factory=dict)
    dead_letters: int | None = None
    deliveries: dict[str, int] = field(default_factory=dict)
    # (channel, state) → tasks: how deliveries fare by kind (inbox, webhook, …).
    deliveries_by_kind: dict[tuple[str, str], int] = field(default_factory=dict)
    # (level, stage) → SLA warnings raised so far (预警 yellow, 超期 red).
    sla_warnings: dict[tuple[str, str], int] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)
    failed_jobs: dict[str, int] = field(default_factory=dict)
    workers: int | None = None
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "head_position": self.head,
            "relay_lag": self.relay_lag,
            "checkpoint_lag": self.checkpoint_lag,
            "dead_letters": self.dead_letters,
            "deliveries": self.deliveries,
            "queues": self.queues,
            "failed_jobs": self.failed_jobs,
            "workers": self.workers,
            **({"problems": self.problems} if self.problems else {}),
        }


def measure(engine: Engine, redis_url: str | None) -> Backlog:
    backlog = Backlog()
    departments: list[str] = []
    try:
        _measure_database(engine, backlog)
        active = active_catalogue(engine)
        departments = [d.code for d in active[1].departments] if active else []
    except Exception as error:  # reported, never raised: this feeds health checks
        backlog.problems.append(f"database: {type(error).__name__}")
    if redis_url:
        try:
            _measure_redis(_client(redis_url), departments, backlog)
        except Exception as error:
            backlog.problems.append(f"redis: {type(error).__name__}")
    return backlog


_clients: dict[str, redis.Redis] = {}


def _client(url: str) -> redis.Redis:
    """One client per URL, with a short timeout: a hung Redis must not hang a health check."""
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _clients[url]


def _measure_database(engine: Engine, backlog: Backlog) -> None:
    store = EventStore(engine)
    with read_only_connection(engine) as conn:
        head = store.head_position(conn=conn)
        positions = all_checkpoints(conn)
        backlog.dead_letters = count_open_dead_letters(conn)
        backlog.deliveries = count_deliveries(conn)
        backlog.deliveries_by_kind = _deliveries_by_kind(conn)
        backlog.sla_warnings = _sla_warnings(conn)
    backlog.head = head
    backlog.relay_lag = max(0, head - positions.get(RELAY_CHECKPOINT, 0))
    backlog.checkpoint_lag = {
        name: max(0, head - position)
        for name, position in sorted(positions.items())
        if name != RELAY_CHECKPOINT and name not in _NOT_LAG and not name.endswith(":shadow")
    }


def _deliveries_by_kind(conn: Connection) -> dict[tuple[str, str], int]:
    query = sa.select(deliveries.c.channel, deliveries.c.state, sa.func.count()).group_by(
        deliveries.c.channel, deliveries.c.state
    )
    return {(str(kind), str(state)): int(n) for kind, state, n in conn.execute(query)}


def _sla_warnings(conn: Connection) -> dict[tuple[str, str], int]:
    """From the case list's warnings table (one row per warning ever raised), not the log:
    a scrape must not count through hundreds of millions of events."""
    warnings = live_tables()["case_warnings"]
    if not sa.inspect(conn).has_table(warnings.name):
        return {}  # the projection has not created its tables yet
    query = sa.select(warnings.c.level, warnings.c.stage, sa.func.count()).group_by(
        warnings.c.level, warnings.c.stage
    )
    return {(str(level), str(stage)): int(n) for level, stage, n in conn.execute(query)}


def _measure_redis(connection: redis.Redis, departments: list[str], backlog: Backlog) -> None:
    known = {q.name for q in Queue.all(connection=connection, serializer=SERIALIZER)}
    ours = {name for name in known if name.startswith(DEPARTMENT_PREFIX)} | {ROUTING, TIMERS}
    for name in sorted(ours | set(queue_names(departments))):
        queue = Queue(name, connection=connection, serializer=SERIALIZER)
        backlog.queues[name] = queue.count
        backlog.failed_jobs[name] = FailedJobRegistry(queue=queue).get_job_count(cleanup=False)
    backlog.workers = Worker.count(connection=connection)
