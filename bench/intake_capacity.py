"""Intake capacity at p99 ≤ 50 ms: ours beside a minimal FastAPI + INSERT endpoint.

Both are real processes on the same database, served with the same uvicorn settings:

- raw: ``bench.minimal_intake`` — validate the body, one INSERT, 201;
- ours: ``dispatch serve`` with one ``dispatch worker`` and one ``dispatch scheduler`` running
  (routing the complaints as they come, as in production), an operator's bearer token.

Each is offered complaints open-loop at rising rates, a few seconds a step
(``bench.capacity``); capacity is the highest rate answered with p99 ≤ 50 ms and no error.
Latency counts from the moment a request was due, so a client falling behind shows. The
ratio ours ÷ raw should be ≥ 0.5. Peak resident memory of each process is sampled too.

    python -m bench.intake_capacity [--url postgresql://…] [--redis-url redis://…]
        [--step-seconds 5] [--json [FILE]]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.capacity import RATES, Capacity, Step, find_capacity
from bench.kpi_cases import DEFAULT_URL, emit, json_option, scratch_database
from bench.load import Poster, complaint, free_port, offer_open_loop, percentile
from bench.processes import Sampler
from bench.service import prepare, redis_or_embedded, running_service, stop, wait_until_up

TARGET_RATIO = 0.5
WARM_UP = 30  # complaints filed one by one first: imports, plans and pools warm up


def stepper(
    poster: Poster, pool: ThreadPoolExecutor, seconds: float, pause: float = 1.0
) -> Callable[[float], Step]:
    """``measure(rate)`` for ``find_capacity``: one open-loop step against ``poster``, from
    ``pool``'s threads (kept across steps, and their connections with them)."""
    numbers = itertools.count(10_000)

    def measure(rate: float) -> Step:
        time.sleep(pause)  # the previous step's last answers and background work settle
        latencies: list[float] = []
        errors: Counter[str] = Counter()

        def submit(_n: int, due: float) -> None:
            try:
                status, _ = poster.post("/api/v1/cases", complaint(next(numbers), "容量压测"))
            except (OSError, http.client.HTTPException) as error:
                errors[type(error).__name__] += 1
                return
            if 200 <= status < 300:
                latencies.append(time.monotonic() - due)
            else:
                errors[f"HTTP {status}"] += 1

        count = max(1, int(rate * seconds))
        offer_open_loop(rate, count, submit, pool=pool)  # returns once every answer is in
        return Step(
            rate=rate,
            offered=count,
            answered=len(latencies),
            errors=sum(errors.values()),
            p50_s=round(percentile(latencies, 0.5), 4) if latencies else None,
            p99_s=round(percentile(latencies, 0.99), 4) if latencies else None,
            error_kinds=dict(errors),
        )

    return measure


def search(poster: Poster, sampler: Sampler, args: argparse.Namespace) -> dict[str, Any]:
    """Warm up (one by one, then an uncounted step at the first rate), then step up."""
    sampler.start()
    for n in range(WARM_UP):
        poster.post("/api/v1/cases", complaint(n, "预热"))
    with ThreadPoolExecutor(max_workers=128) as pool:
        measure = stepper(poster, pool, args.step_seconds)
        measure(args.rates[0])
        capacity: Capacity = find_capacity(measure, args.rates, refine=args.refine)
    return capacity.as_json() | {"peak_rss_mb": sampler.stop()}


def measure_raw(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="sw-bench-logs-")) / "minimal_intake.log"
    command = [sys.executable, "-m", "bench.minimal_intake"]
    command += ["--database-url", database_url, "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=output)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        sampler = Sampler({"minimal api": [process.pid]}, None)
        found = search(Poster(port, {}), sampler, args)
    except BaseException:
        print(f"the minimal endpoint's log: {log}", file=sys.stderr)
        raise
    finally:
        stop([process])
    shutil.rmtree(log.parent, ignore_errors=True)
    return found


def measure_ours(
    database_url: str, redis_url: str, args: argparse.Namespace, *, apis: int = 1
) -> dict[str, Any]:
    with running_service(database_url, redis_url, workers=1, apis=apis) as service:
        sampler = Sampler(service.roles, None)
        return search(Poster(service.ports, service.headers), sampler, args)


def run(database_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, Any]:
    prepare(database_url)
    raw = measure_raw(database_url, args)
    ours = measure_ours(database_url, redis_url, args)
    ratio = ours["capacity_per_s"] / raw["capacity_per_s"] if raw["capacity_per_s"] else None
    # The same with two API processes (one host's cores shared by both): how far a second
    # API process carries intake on the same machine.
    two = measure_ours(database_url, redis_url, args, apis=2) if getattr(args, "apis2", 0) else None
    return {
        "step_seconds": args.step_seconds,
        "ours": ours,
        **({"ours_2_apis": two} if two is not None else {}),
        "raw": raw,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target_ratio": TARGET_RATIO,
        "target_met": ratio is not None and ratio >= TARGET_RATIO,
    }


def options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server for a scratch db")
    parser.add_argument("--redis-url", help="default: an embedded Redis")
    parser.add_argument("--step-seconds", type=float, default=5.0, help="length of each step")
    parser.add_argument("--refine", type=int, default=1, help="halvings after the first fail")
    parser.add_argument(
        "--apis2", action="store_true", help="also measure ours with two API processes"
    )
    parser.add_argument(
        "--rates",
        type=lambda text: [float(r) for r in text.split(",")],
        default=list(RATES),
        help="offered rates per second, comma-separated",
    )
    json_option(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = options(argv)
    with (
        tempfile.TemporaryDirectory(prefix="sw-bench-") as scratch,
        scratch_database(args.url) as database_url,
        redis_or_embedded(args.redis_url, Path(scratch)) as redis_url,
    ):
        figures = run(database_url, redis_url, args)
    emit(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
