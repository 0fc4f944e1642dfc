"""Overload: offered twice what it can serve, the API sheds commands instead of queueing them.

The production processes, each its own OS process (``dispatch serve`` with a Redis URL, one
``dispatch scheduler``, ``--workers`` × ``dispatch worker``), on a scratch PostgreSQL
database and an embedded Redis. First the capacity is measured: ``--clients`` clients file
complaints back to back for ``--measure-seconds`` (closed loop, never more in flight than
the admission limit), and accepted/s is the capacity. Then complaints are offered open-loop
at ``--factor`` × that rate for ``--seconds`` (a late answer never delays the next request),
and the script reports accepted/s and shed/s (503 with ``Retry-After``) with the p50/p99 of
each. Afterwards the log is counted: every 201 must be a stored case, every 503 none.

    python -m bench.overload [--database-url postgresql://…] [--factor 2] [--seconds 20]
        [--concurrency 8] [--queue-ms 50] [--json [FILE]]
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.kpi_cases import DEFAULT_URL, emit, json_option, scratch_database
from bench.load import CATEGORIES, Poster, summary
from bench.service import prepare, running_service
from dispatch.ops.embedded_redis import EmbeddedRedis
from events.database import make_engine

TARGET_SHED_P99 = 0.1  # DESIGN.md §8.10: the 503 within 100 ms


def complaint(n: int) -> dict[str, Any]:
    return {
        "channel": "phone",
        "category": CATEGORIES[n % len(CATEGORIES)],
        "description": f"过载压测 {n}",
        "urgency": "normal",
        "location": {"grid": "XYL-01" if n % 2 else "CLZ-02"},
    }


class Tally:
    """Answers by kind, with the time each took; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[float] = []
        self.shed: list[float] = []
        self.other: list[str] = []
        self.shed_without_retry_after = 0

    def note(self, status: int, seconds: float, text: str, retry_after: str | None) -> None:
        with self.lock:
            if status == 201:
                self.accepted.append(seconds)
            elif status == 503:
                self.shed.append(seconds)
                self.shed_without_retry_after += retry_after is None
            else:
                self.other.append(f"HTTP {status}: {text[:80]}")


def file_one(poster: HeaderPoster, n: int, tally: Tally) -> None:
    sent = time.monotonic()
    try:
        status, text, retry_after = poster.post_with_header(
            "/api/v1/cases", complaint(n), "Retry-After"
        )
    except (OSError, http.client.HTTPException) as error:
        with tally.lock:
            tally.other.append(type(error).__name__)
        return
    tally.note(status, time.monotonic() - sent, text, retry_after)


class HeaderPoster(Poster):
    """``Poster`` that also hands back one response header (``Retry-After`` here)."""

    def post_with_header(
        self, path: str, body: dict[str, Any], header: str
    ) -> tuple[int, str, str | None]:
        payload = json.dumps(body).encode()
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=10
            )
        try:
            connection.request("POST", path, body=payload, headers=self.headers)
            response = connection.getresponse()
            return response.status, response.read().decode(), response.getheader(header)
        except (http.client.HTTPException, ConnectionError):
            connection.close()
            self.local.connection = None
            raise


def measure_capacity(poster: HeaderPoster, clients: int, seconds: float) -> Tally:
    """Closed loop: ``clients`` back-to-back filers, never more than the admission limit."""
    tally = Tally()
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))

    def loop() -> None:
        while time.monotonic() < stop:
            file_one(poster, next(counter), tally)

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def offer(poster: HeaderPoster, rate: float, seconds: float, first: int) -> tuple[Tally, float]:
    tally = Tally()
    total = int(rate * seconds)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=128) as pool:
        for n in range(total):
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pool.submit(file_one, poster, first + n, tally)
    return tally, time.monotonic() - started


def run(args: argparse.Namespace, database_url: str, redis_url: str) -> dict[str, Any]:
    prepare(database_url)
    admission = {
        "DISPATCH_ADMISSION_CONCURRENCY": str(args.concurrency),
        "DISPATCH_ADMISSION_QUEUE_MS": str(args.queue_ms),
    }
    with running_service(database_url, redis_url, workers=args.workers, env=admission) as service:
        poster = HeaderPoster(service.port, service.headers)
        measured = measure_capacity(poster, args.concurrency, args.measure_seconds)
        capacity = len(measured.accepted) / args.measure_seconds
        if not capacity:
            raise SystemExit(
                f"nothing accepted while measuring: {measured.other[:3]}; see {service.logs}"
            )
        rate = capacity * args.factor
        tally, offered_for = offer(poster, rate, args.seconds, first=10**6)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT count(*) FROM events WHERE type = 'CaseReceived'")
        ).scalar_one()
    engine.dispose()
    return {
        "database": "postgresql",
        "admission": {"concurrency": args.concurrency, "queue_ms": args.queue_ms},
        "capacity_per_s": round(capacity, 1),
        "offered_per_s": round(rate, 1),
        "offered_for_s": round(offered_for, 1),
        "accepted_per_s": round(len(tally.accepted) / offered_for, 1),
        "shed_per_s": round(len(tally.shed) / offered_for, 1),
        "other_answers": len(tally.other),
        "other_kinds": sorted(set(tally.other))[:5],
        "shed_without_retry_after": tally.shed_without_retry_after,
        "accepted_latency_s": summary(tally.accepted),
        "shed_latency_s": summary(tally.shed),
        "stored_cases": stored,
        "accepted_total": len(measured.accepted) + len(tally.accepted),
        "every_201_stored": stored == len(measured.accepted) + len(tally.accepted),
        "target_shed_p99_s": TARGET_SHED_P99,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL server")
    parser.add_argument("--factor", type=float, default=2.0, help="offered ÷ measured capacity")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to offer it")
    parser.add_argument("--measure-seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4, help="DISPATCH_ADMISSION_CONCURRENCY")
    parser.add_argument("--queue-ms", type=int, default=35, help="DISPATCH_ADMISSION_QUEUE_MS")
    parser.add_argument("--workers", type=int, default=1, help="dispatch worker processes")
    json_option(parser)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="sw-bench-") as scratch,
        scratch_database(args.database_url) as database_url,
    ):
        embedded = EmbeddedRedis(Path(scratch) / "redis")
        embedded.start()
        try:
            figures = run(args, database_url, embedded.url)
        finally:
            embedded.stop()
    emit(figures, args.json)


if __name__ == "__main__":
    main()
