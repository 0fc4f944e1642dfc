"""Rebuild speed of the KPI projection beside a raw scan of the same events, in the same run.

    python -m bench.rebuild [--cases 1000000] [--url postgresql://…] [--projection kpi] [--json]

Fills a scratch database with ``--cases`` realistic cases (``bench/kpi_cases.py``, about nine
events each), then measures:

- raw scan: ``SELECT * FROM events ORDER BY position`` in keyset batches of the rebuild's size,
  rows fetched as tuples (the floor: what reading the log costs);
- store scan: the same through ``EventStore.iter_all`` (rows turned into ``RecordedEvent``);
- rebuild: ``ProjectionRunner.rebuild(name)`` — shadow tables from position 0, then the swap.

Peak memory is printed too, overall and in each half of the rebuild (sampled after every
batch): a rebuild must run in constant memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Any

import psutil
import sqlalchemy as sa

from bench.kpi_cases import DEFAULT_URL, emit, fill, json_option, scratch_database
from dispatch.ops.migrations import prepare_database
from dispatch.projections import ProjectionRunner, default_projections
from events import EventStore
from events.database import make_engine

TARGET = 20_000  # events/s (DESIGN.md §7)


def raw_scan(engine: sa.Engine, batch: int) -> tuple[int, float]:
    started, count, after = time.perf_counter(), 0, 0
    query = sa.text("SELECT * FROM events WHERE position > :after ORDER BY position LIMIT :n")
    with engine.connect() as conn:
        while rows := conn.execute(query, {"after": after, "n": batch}).all():
            count += len(rows)
            after = rows[-1].position
    return count, time.perf_counter() - started


def store_scan(engine: sa.Engine, batch: int) -> tuple[int, float]:
    started = time.perf_counter()
    count = sum(len(chunk) for chunk in EventStore(engine).iter_all(batch=batch))
    return count, time.perf_counter() - started


def measure(url: str, projection: str, *, quiet: bool) -> dict[str, Any]:
    engine = make_engine(url)
    runner = ProjectionRunner(engine, default_projections())
    batch = runner.rebuild_batch_size
    raw_count, raw_seconds = raw_scan(engine, batch)
    store_count, store_seconds = store_scan(engine, batch)
    last = [time.perf_counter(), 0]
    process = psutil.Process()
    memory: list[tuple[int, int, int]] = []  # (position, head, resident bytes) per batch

    def progress(position: int, head: int) -> None:
        memory.append((position, head, process.memory_info().rss))
        now = time.perf_counter()
        if not quiet and now - last[0] > 5:
            print(f"  rebuild at {position:,}/{head:,}", file=sys.stderr)
            last[0] = now

    started = time.perf_counter()
    applied = runner.rebuild(projection, progress=progress)
    seconds = time.perf_counter() - started
    engine.dispose()
    rebuild_rate = applied / seconds
    raw_rate = raw_count / raw_seconds
    return {
        "projection": projection,
        "events": applied,
        "raw_scan_events_per_s": round(raw_rate),
        "store_scan_events_per_s": round(store_count / store_seconds),
        "rebuild_events_per_s": round(rebuild_rate),
        "rebuild_vs_raw_scan": round(rebuild_rate / raw_rate, 3),
        "rebuild_seconds": round(seconds, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **halves(memory),
        "target_events_per_s": TARGET,
        "target_met": rebuild_rate >= TARGET,
    }


def halves(memory: list[tuple[int, int, int]]) -> dict[str, float]:
    """The peak resident memory in the first and in the second half of the rebuild: constant
    memory means the second is no higher than the first, whatever the log's length."""
    first = [rss for position, head, rss in memory if position <= head / 2]
    second = [rss for position, head, rss in memory if position > head / 2]
    if not first or not second:
        return {}
    return {
        "rss_first_half_mb": round(max(first) / 2**20, 1),
        "rss_second_half_mb": round(max(second) / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server for a scratch db")
    parser.add_argument("--database", help="reuse this filled database instead (not dropped)")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--projection", default="kpi")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    json_option(parser)
    args = parser.parse_args(argv)
    if args.database:
        figures = measure(args.database, args.projection, quiet=args.json == "-")
    else:
        with scratch_database(args.url, keep=args.keep) as url:
            engine = make_engine(url)
            prepare_database(engine)
            engine.dispose()
            started = time.perf_counter()
            written = fill(url, args.cases, progress=None if args.json == "-" else _filled)
            if args.json != "-":
                print(f"filled {written:,} events in {time.perf_counter() - started:.0f} s")
                if args.keep:
                    print(f"database kept: {url}")
            figures = measure(url, args.projection, quiet=args.json == "-")
            figures["cases"] = args.cases
    emit(figures, args.json)
    return 0  # a benchmark reports; the figures say whether the target was met


def _filled(count: int) -> None:
    print(f"  filled {count:,} events", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
