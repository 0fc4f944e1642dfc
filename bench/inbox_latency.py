"""Complaint accepted → task visible in the department inbox, under a steady intake rate.

The production processes, each its own OS process: the API (``dispatch serve`` with a Redis
URL), ``--workers`` × ``dispatch worker`` and one ``dispatch scheduler``, on a fresh database
and Redis (an embedded one unless ``--redis-url``). Complaints are POSTed open-loop at
``--rate`` per second for ``--seconds`` (a late response never delays the next request). A
watcher polls the inbox table (``case_tasks``) every few milliseconds and notes when each
case's lead task first appears: latency = that moment − the moment the API answered 201.
The watcher reads the database directly so that polling does not load the API.

    python bench/inbox_latency.py [--rate 100] [--seconds 60] [--workers 2]
        [--database-url postgresql://…] [--redis-url redis://…] [--json [PATH]]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import redis
import sqlalchemy as sa
from argon2 import PasswordHasher

from dispatch.auth.users import add_user
from dispatch.catalogue.versions import load_catalogue
from dispatch.ops.backlog import measure
from dispatch.ops.embedded_redis import EmbeddedRedis
from dispatch.ops.migrations import prepare_database
from events.database import make_engine

TARGET_P99 = 1.0
SAMPLE = Path(__file__).parent.parent / "dispatch/catalogue/samples/sample.yaml"
CATEGORIES = ["water.outage", "road.pothole", "gas.smell", "power.outage", "env.smoke"]
PASSWORD = "bench-password-1"
OPERATOR = f"bench-operator-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Watcher(threading.Thread):
    """Notes when each awaited case first has a task in ``case_tasks``."""

    def __init__(
        self,
        engine: sa.Engine,
        interval: float = 0.01,
        query: str = "SELECT DISTINCT case_id FROM case_tasks WHERE case_id IN :ids",
    ) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.query = query
        self.interval = interval
        self.awaited: set[str] = set()
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def await_case(self, case_id: str) -> None:
        with self.lock:
            self.awaited.add(case_id)

    def run(self) -> None:
        query = sa.text(self.query)
        query = query.bindparams(sa.bindparam("ids", expanding=True))
        while not self.stopping.is_set():
            with self.lock:
                waiting = list(self.awaited)[:900]
            if waiting:
                with self.engine.connect() as conn:
                    found = conn.execute(query, {"ids": waiting}).scalars().all()
                now = time.monotonic()
                with self.lock:
                    for case_id in found:
                        self.awaited.discard(case_id)
                        self.seen[case_id] = now
            self.stopping.wait(self.interval)


class Poster:
    """POSTs JSON over one kept-alive ``http.client`` connection per thread.

    The load generator shares the machine with the service it measures; httpx spent about
    three times the CPU per request, which the service then lacked.
    """

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.headers = {**headers, "Content-Type": "application/json"}
        self.local = threading.local()

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, str]:
        payload = json.dumps(body).encode()
        for attempt in (1, 2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=10
                )
            try:
                connection.request("POST", path, body=payload, headers=self.headers)
                response = connection.getresponse()
                return response.status, response.read().decode()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class Sampler(threading.Thread):
    """Once a second: the backlog /metrics reports (relay lag, queue depths, projection lag)."""

    def __init__(self, engine: sa.Engine, redis_url: str) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.redis_url = redis_url
        self.peaks: dict[str, int] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            backlog = measure(self.engine, self.redis_url)
            figures = {"relay_lag": backlog.relay_lag or 0}
            figures |= {f"queue {name}": depth for name, depth in backlog.queues.items()}
            figures |= {f"lag {name}": lag for name, lag in backlog.checkpoint_lag.items()}
            for name, value in figures.items():
                self.peaks[name] = max(self.peaks.get(name, 0), value)


def prepare(database_url: str) -> None:
    engine = make_engine(database_url)
    prepare_database(engine)
    load_catalogue(engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="bench")
    with engine.begin() as conn:
        add_user(
            conn,
            username=OPERATOR,
            password=PASSWORD,
            roles=("operator",),
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
    engine.dispose()


def raw_hop(
    database_url: str, redis_url: str, rate: float, seconds: float, consumers: int
) -> dict[str, Any]:
    """The floor under the measured path, in the same run: the same hops with none of our code.

    At the same rate: commit a row (the complaint), RPUSH its id to a Redis list (the relay),
    ``consumers`` threads BLPOP it and commit a row in a second table (the worker and the
    inbox), and the same watcher notes when that row appears.
    """
    engine = make_engine(database_url, pool_size=consumers + 8)
    connection = redis.Redis.from_url(redis_url)
    queue = f"bench:raw:{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        for table in ("bench_raw_cases", "bench_raw_inbox"):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.exec_driver_sql(f"CREATE TABLE {table} (id VARCHAR(40) PRIMARY KEY)")
    watcher = Watcher(engine, query="SELECT id FROM bench_raw_inbox WHERE id IN :ids")
    stopping = threading.Event()
    accepted: dict[str, float] = {}

    def consume() -> None:
        while not stopping.is_set():
            item = connection.blpop([queue], timeout=1)
            if item is not None:
                with engine.begin() as conn:
                    conn.execute(
                        sa.text("INSERT INTO bench_raw_inbox (id) VALUES (:id)"),
                        {"id": item[1].decode()},
                    )

    def submit() -> None:
        case_id = uuid.uuid4().hex
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO bench_raw_cases (id) VALUES (:id)"), {"id": case_id})
        accepted[case_id] = time.monotonic()
        watcher.await_case(case_id)
        connection.rpush(queue, case_id)

    threads = [threading.Thread(target=consume, daemon=True) for _ in range(consumers)]
    for thread in [*threads, watcher]:
        thread.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for n in range(int(rate * seconds)):
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pool.submit(submit)
    drain_until = time.monotonic() + 10
    while watcher.awaited and time.monotonic() < drain_until:
        time.sleep(0.05)
    stopping.set()
    watcher.stopping.set()
    for thread in threads:
        thread.join(timeout=5)
    with engine.begin() as conn:
        for table in ("bench_raw_cases", "bench_raw_inbox"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
    engine.dispose()
    latencies = [watcher.seen[c] - t for c, t in accepted.items() if c in watcher.seen]
    return {"seconds": seconds, "cases": len(accepted), "latency_s": summary(latencies)}


def start(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "workers", *arguments],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(args: argparse.Namespace, database_url: str, redis_url: str) -> dict[str, Any]:
    prepare(database_url)
    baseline = raw_hop(database_url, redis_url, args.rate, args.baseline_seconds, args.workers)
    port = free_port()
    env = {**os.environ, "DISPATCH_DATABASE_URL": database_url, "DISPATCH_REDIS_URL": redis_url}
    processes = [start(["serve", "--port", str(port)], env), start(["scheduler", "--quiet"], env)]
    processes += [start(["worker", "--quiet"], env) for _ in range(args.workers)]
    engine = make_engine(database_url)
    watcher = Watcher(engine)
    sampler = Sampler(engine, redis_url)
    accepted: dict[str, float] = {}
    intake: list[float] = []
    errors: list[str] = []
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the API did not start within 60 s")
            time.sleep(0.2)
        token = client.post(
            "/api/v1/auth/token", data={"username": OPERATOR, "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        watcher.start()
        sampler.start()

        poster = Poster(port, headers)

        def submit(n: int) -> None:
            body = {
                "channel": "phone",
                "category": CATEGORIES[n % len(CATEGORIES)],
                "description": f"压测工单 {n}",
                "urgency": "normal",
                "location": {"grid": "XYL-01" if n % 2 else "CLZ-02"},
            }
            sent = time.monotonic()
            try:
                status, text = poster.post("/api/v1/cases", body)
            except OSError as error:
                errors.append(type(error).__name__)
                return
            answered = time.monotonic()
            if status != 201:
                errors.append(f"HTTP {status}: {text[:120]}")
                return
            case_id = json.loads(text)["id"]
            intake.append(answered - sent)
            accepted[case_id] = answered
            watcher.await_case(case_id)

        total = int(args.rate * args.seconds)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=64) as pool:
            for n in range(total):
                pause = started + n / args.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(submit, n)
        offered_for = time.monotonic() - started
        drain_until = time.monotonic() + 30
        while watcher.awaited and time.monotonic() < drain_until:
            time.sleep(0.1)
    finally:
        watcher.stopping.set()
        sampler.stopping.set()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        engine.dispose()

    latencies = [watcher.seen[c] - t for c, t in accepted.items() if c in watcher.seen]
    missing = len(accepted) - len(latencies)
    return {
        "rate": args.rate,
        "seconds": args.seconds,
        "offered": int(args.rate * args.seconds),
        "offered_for_s": round(offered_for, 2),
        "accepted": len(accepted),
        "errors": len(errors),
        "error_kinds": dict(Counter(errors).most_common(5)),
        "missing_after_30s_drain": missing,
        "workers": args.workers,
        "database": make_engine(database_url).dialect.name,
        "inbox_latency_s": summary(latencies),
        "raw_hop_baseline": baseline,
        "p99_vs_raw_hop": _ratio(percentile(latencies, 0.99) if latencies else None, baseline),
        "intake_latency_s": summary(intake),
        "backlog_peaks": {k: v for k, v in sorted(sampler.peaks.items()) if v},
        "target_p99_s": TARGET_P99,
        "meets_target": bool(latencies) and not missing and percentile(latencies, 0.99) <= 1.0,
    }


def _ratio(p99: float | None, baseline: dict[str, Any]) -> float | None:
    raw = baseline["latency_s"]["p99"]
    return None if p99 is None or not raw else round(p99 / raw, 1)


def summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "p50": round(percentile(values, 0.50), 4),
        "p90": round(percentile(values, 0.90), 4),
        "p99": round(percentile(values, 0.99), 4),
        "max": round(max(values), 4),
        "mean": round(statistics.fmean(values), 4),
    }


def table(result: dict[str, Any]) -> str:
    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value * 1000:,.0f} ms"

    lines = [
        "complaint accepted → task in the department inbox",
        f"{result['rate']}/s for {result['seconds']} s on {result['database']}, "
        f"{result['workers']} worker(s): {result['accepted']} accepted, "
        f"{result['errors']} errors, {result['missing_after_30s_drain']} never reached an inbox",
        "",
        f"{'':24}{'p50':>12}{'p90':>12}{'p99':>12}{'max':>12}",
    ]
    rows = (
        ("accepted → inbox", result["inbox_latency_s"]),
        ("intake (201)", result["intake_latency_s"]),
        ("raw hop (baseline)", result["raw_hop_baseline"]["latency_s"]),
    )
    for label, row in rows:
        lines.append(
            f"{label:24}{ms(row['p50']):>12}{ms(row['p90']):>12}{ms(row['p99']):>12}"
            f"{ms(row['max']):>12}"
        )
    peaks = ", ".join(f"{k} {v}" for k, v in result["backlog_peaks"].items()) or "none"
    verdict = "meets" if result["meets_target"] else "MISSES"
    lines += [
        "",
        f"raw hop: commit → RPUSH → BLPOP → commit at the same rate for "
        f"{result['raw_hop_baseline']['seconds']} s; accepted → inbox p99 is "
        f"{result['p99_vs_raw_hop']}× its p99",
        f"backlog peaks (events or jobs): {peaks}",
        f"target: p99 ≤ {TARGET_P99 * 1000:.0f} ms — {verdict}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="complaints per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to offer them")
    parser.add_argument("--workers", type=int, default=2, help="dispatch worker processes")
    parser.add_argument(
        "--baseline-seconds", type=float, default=10.0, help="how long the raw hop runs"
    )
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--redis-url", help="default: an embedded Redis")
    parser.add_argument(
        "--json", nargs="?", const="-", help="also write the figures as JSON (to PATH, or stdout)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-bench-") as scratch:
        database_url = args.database_url or f"sqlite:///{scratch}/bench.db"
        embedded = None
        redis_url = args.redis_url
        if redis_url is None:
            embedded = EmbeddedRedis(Path(scratch) / "redis")
            embedded.start()
            redis_url = embedded.url
        try:
            result = run(args, database_url, redis_url)
        finally:
            if embedded is not None:
                embedded.stop()
    print(table(result))
    if args.json == "-":
        print(json.dumps(result, indent=2))
    elif args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
