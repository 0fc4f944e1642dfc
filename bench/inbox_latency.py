"""Complaint accepted → task visible in the department inbox, under a steady intake rate.

The production processes, each its own OS process (``bench.service``): the API, ``--workers``
× ``dispatch worker`` and one ``dispatch scheduler``, on a fresh database and Redis (an
embedded one unless ``--redis-url``). Complaints are POSTed open-loop at ``--rate`` per second
for ``--seconds`` (a late response never delays the next request). A watcher polls the inbox
table (``case_tasks``) every few milliseconds and notes when each case's lead task first
appears: latency = that moment − the moment the API answered 201. The watcher reads the
database directly so that polling does not load the API.

Meanwhile the CPU every process spends in the steady part of the run (a fifth to four fifths
of the complaints) is metered and divided by the complaints accepted (201) in it, and each role's
resident memory is sampled (``bench.cpu_meter``). The raw hop (``bench.raw_hop``) runs first,
at the same rate, metered the same way.

    python -m bench.inbox_latency [--rate 100] [--seconds 60] [--workers 2]
        [--database-url postgresql://…] [--redis-url redis://…] [--json [PATH]]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.cpu_meter import service_meter, steady_window
from bench.inbox_watch import BacklogSampler, Watcher
from bench.load import Poster, complaint, offer_open_loop, percentile, summary
from bench.raw_hop import raw_hop
from bench.service import prepare, redis_or_embedded, running_service

TARGET_P99 = 1.0


def run(args: argparse.Namespace, database_url: str, redis_url: str) -> dict[str, Any]:
    prepare(database_url)
    baseline = raw_hop(database_url, redis_url, args.rate, args.baseline_seconds, args.workers)
    accepted: dict[str, float] = {}
    numbers: list[int] = []  # of the complaints accepted
    intake: list[float] = []
    errors: list[str] = []
    with running_service(database_url, redis_url, workers=args.workers) as service:
        watcher = Watcher(database_url)
        backlog = BacklogSampler(database_url, redis_url)
        meter = service_meter(
            database_url,
            redis_url,
            service.roles,
            watcher.backend_pids() | backlog.backend_pids(),
        )
        for thread in (watcher, backlog, meter):
            thread.start()
        poster = Poster(service.port, service.headers)

        def submit(n: int, _due: float) -> None:
            sent = time.monotonic()
            try:
                status, text = poster.post("/api/v1/cases", complaint(n))
            except OSError as error:
                errors.append(type(error).__name__)
                return
            answered = time.monotonic()
            if status != 201:
                errors.append(f"HTTP {status}: {text[:120]}")
                return
            case_id = json.loads(text)["id"]
            numbers.append(n)
            intake.append(answered - sent)
            accepted[case_id] = answered
            watcher.await_case(case_id)

        total = int(args.rate * args.seconds)
        opens, closes = steady_window(total)
        window = {opens: meter.open, closes: lambda: meter.close(closes - opens)}
        offered_for = offer_open_loop(args.rate, total, submit, at=window)
        drain_until = time.monotonic() + 30
        while watcher.waiting() and time.monotonic() < drain_until:
            time.sleep(0.1)
        watcher.stop()
        peaks = backlog.stop()
        metered = meter.finish()
        # Per complaint *accepted*: a shed complaint (503) costs next to nothing, so dividing
        # by the offered ones would make an overloaded run look cheap.
        accepted_in_window = sum(opens <= n < closes for n in numbers)
        metered["offered_in_window"] = metered["items"]
        metered["accepted_in_window"] = accepted_in_window
        metered["items"] = accepted_in_window
        metered["cpu_ms_per_item"] = meter.window.per_item_ms(accepted_in_window)

    latencies = [watcher.seen[c] - t for c, t in accepted.items() if c in watcher.seen]
    missing = len(accepted) - len(latencies)
    p99 = percentile(latencies, 0.99) if latencies else None
    raw_p99 = baseline["latency_s"]["p99"]
    return {
        "rate": args.rate,
        "seconds": args.seconds,
        "offered": total,
        "offered_for_s": round(offered_for, 2),
        "accepted": len(accepted),
        "errors": len(errors),
        "error_kinds": dict(Counter(errors).most_common(5)),
        "missing_after_30s_drain": missing,
        "workers": args.workers,
        "database": sa.make_url(database_url).get_backend_name(),
        "inbox_latency_s": summary(latencies),
        "raw_hop_baseline": baseline,
        "p99_vs_raw_hop": round(p99 / raw_p99, 1) if p99 is not None and raw_p99 else None,
        "intake_latency_s": summary(intake),
        "backlog_peaks": peaks,
        "cpu": metered,
        "target_p99_s": TARGET_P99,
        "meets_target": p99 is not None and not missing and p99 <= TARGET_P99,
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
    ours = result["cpu"]["cpu_ms_per_item"]
    raw = result["raw_hop_baseline"]["cpu"]["cpu_ms_per_item"]
    lines += ["", "CPU ms per complaint, steady window"]
    lines += [f"  {name:34}{value:>10}" for name, value in ours.items()]
    lines += [f"  raw hop {name:26}{value:>10}" for name, value in raw.items()]
    peaks = ", ".join(f"{k} {v}" for k, v in result["backlog_peaks"].items()) or "none"
    rss = ", ".join(f"{k} {v} MB" for k, v in result["cpu"]["peak_rss_mb"].items())
    verdict = "meets" if result["meets_target"] else "MISSES"
    lines += [
        "",
        f"raw hop: commit → RPUSH → BLPOP → commit at the same rate for "
        f"{result['raw_hop_baseline']['seconds']} s; accepted → inbox p99 is "
        f"{result['p99_vs_raw_hop']}× its p99",
        f"backlog peaks (events or jobs): {peaks}",
        f"peak RSS: {rss}",
        f"target: p99 ≤ {TARGET_P99 * 1000:.0f} ms — {verdict}",
    ]
    return "\n".join(lines)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    with (
        tempfile.TemporaryDirectory(prefix="sw-bench-") as scratch,
        redis_or_embedded(args.redis_url, Path(scratch)) as redis_url,
    ):
        database_url = args.database_url or f"sqlite:///{scratch}/bench.db"
        result = run(args, database_url, redis_url)
    print(table(result))
    if args.json == "-":
        print(json.dumps(result, indent=2))
    elif args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
