"""Watching the pipeline from the outside: when each case reaches an inbox, how deep the backlog.

Both read the database directly, over connections of their own, so that watching loads
neither the API nor the counted processes; their PostgreSQL backends are named
(``backend_pids``) so the CPU meter can leave them out.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from dispatch.ops.backlog import measure
from events.database import make_engine


def backend_pid(engine: sa.Engine) -> int | None:
    """The server process behind the engine's one pooled connection (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        pid: int = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        return pid


def single_connection_engine(database_url: str) -> sa.Engine:
    return make_engine(database_url, pool_size=1, max_overflow=0)


class Watcher(threading.Thread):
    """Notes when each awaited case first has a row in ``query``'s table (``case_tasks``)."""

    def __init__(
        self,
        database_url: str,
        interval: float = 0.01,
        query: str = "SELECT DISTINCT case_id FROM case_tasks WHERE case_id IN :ids",
    ) -> None:
        super().__init__(daemon=True)
        self.engine = single_connection_engine(database_url)
        self.pid = backend_pid(self.engine)
        self.query = sa.text(query).bindparams(sa.bindparam("ids", expanding=True))
        self.interval = interval
        self.awaited: set[str] = set()
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def backend_pids(self) -> set[int]:
        return {self.pid} if self.pid else set()

    def await_case(self, case_id: str) -> None:
        with self.lock:
            self.awaited.add(case_id)

    def waiting(self) -> int:
        with self.lock:
            return len(self.awaited)

    def run(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                waiting = list(self.awaited)[:900]
            if waiting:
                with self.engine.connect() as conn:
                    found = conn.execute(self.query, {"ids": waiting}).scalars().all()
                now = time.monotonic()
                with self.lock:
                    for case_id in found:
                        self.awaited.discard(case_id)
                        self.seen[case_id] = now
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        self.engine.dispose()


class BacklogSampler(threading.Thread):
    """Once a second: the backlog /metrics reports (relay lag, queue depths, projection lag)."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = single_connection_engine(database_url)
        self.pid = backend_pid(self.engine)
        self.redis_url = redis_url
        self.peaks: dict[str, int] = {}
        self.stopping = threading.Event()

    def backend_pids(self) -> set[int]:
        return {self.pid} if self.pid else set()

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            backlog = measure(self.engine, self.redis_url)
            figures = {"relay_lag": backlog.relay_lag or 0}
            figures |= {f"queue {name}": depth for name, depth in backlog.queues.items()}
            figures |= {f"lag {name}": lag for name, lag in backlog.checkpoint_lag.items()}
            for name, value in figures.items():
                self.peaks[name] = max(self.peaks.get(name, 0), value)

    def stop(self) -> dict[str, int]:
        """Stop sampling; the non-zero peaks."""
        self.stopping.set()
        self.join(timeout=5)
        self.engine.dispose()
        return {k: v for k, v in sorted(self.peaks.items()) if v}
