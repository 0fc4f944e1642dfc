"""The floor under complaint → inbox, in the same run: the same hops with none of our code.

At the rate the pipeline gets: commit a row (the complaint), RPUSH its id to a Redis list (the
relay), ``consumers`` threads BLPOP it and commit a row in a second table (the worker and the
inbox), and the same watcher notes when that row appears. Its CPU per item is metered the
way the pipeline's is (``bench.cpu_meter``).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import redis
import sqlalchemy as sa

from bench.cpu_meter import raw_hop_meter, steady_window
from bench.inbox_watch import Watcher
from bench.load import offer_open_loop, summary
from events.database import make_engine

TABLES = ("bench_raw_cases", "bench_raw_inbox")


def raw_hop(
    database_url: str, redis_url: str, rate: float, seconds: float, consumers: int
) -> dict[str, Any]:
    engine = make_engine(database_url, pool_size=consumers + 8)
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    queue = f"bench:raw:{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        for table in TABLES:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.exec_driver_sql(f"CREATE TABLE {table} (id VARCHAR(40) PRIMARY KEY)")
    watcher = Watcher(database_url, query="SELECT id FROM bench_raw_inbox WHERE id IN :ids")
    hop_threads: set[int] = set()
    meter = raw_hop_meter(database_url, redis_url, hop_threads, watcher.backend_pids())
    stopping = threading.Event()
    accepted: dict[str, float] = {}
    insert_case = sa.text("INSERT INTO bench_raw_cases (id) VALUES (:id)")
    insert_inbox = sa.text("INSERT INTO bench_raw_inbox (id) VALUES (:id)")

    def consume() -> None:
        hop_threads.add(threading.get_native_id())
        while not stopping.is_set():
            item = connection.blpop([queue], timeout=1)
            if item is not None:
                with engine.begin() as conn:
                    conn.execute(insert_inbox, {"id": item[1]})

    def submit(_n: int, _due: float) -> None:
        hop_threads.add(threading.get_native_id())
        case_id = uuid.uuid4().hex
        with engine.begin() as conn:
            conn.execute(insert_case, {"id": case_id})
        accepted[case_id] = time.monotonic()
        watcher.await_case(case_id)
        connection.rpush(queue, case_id)

    total = int(rate * seconds)
    opens, closes = steady_window(total)
    threads = [threading.Thread(target=consume, daemon=True) for _ in range(consumers)]
    for thread in [*threads, watcher]:
        thread.start()
    meter.start()
    window = {opens: meter.open, closes: lambda: meter.close(closes - opens)}
    offer_open_loop(rate, total, submit, threads=16, at=window)
    drain_until = time.monotonic() + 10
    while watcher.waiting() and time.monotonic() < drain_until:
        time.sleep(0.05)
    stopping.set()
    watcher.stop()
    for thread in threads:
        thread.join(timeout=5)
    metered = meter.finish()
    with engine.begin() as conn:
        for table in TABLES:
            conn.exec_driver_sql(f"DROP TABLE {table}")
    engine.dispose()
    connection.close()
    latencies = [watcher.seen[c] - t for c, t in accepted.items() if c in watcher.seen]
    return {
        "seconds": seconds,
        "cases": len(accepted),
        "latency_s": summary(latencies),
        "cpu": metered,
    }
