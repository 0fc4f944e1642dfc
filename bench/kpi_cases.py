"""A year of realistic 12345 cases, written straight into a scratch PostgreSQL ``events`` table.

Shared by ``bench/rebuild.py`` and ``bench/kpi_query.py``. Cases arrive from November 2025 to
October 2026 (Beijing time) and go through what a hotline sees (``bench/kpi_stories.py``:
most run their course, recent ones may stall on a worklist). Events are interleaved in time
order across cases, as the log would hold them, with a valid hash chain per stream, and loaded
with ``COPY`` (filling the log is not what is measured). Events after the end of the year have
not happened yet: those cases are still open.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.worlds

from bench.kpi_stories import END, START, Step, Story
from events.database import make_engine, normalise_url
from events.hashing import GENESIS, event_hash
from tests.worlds.databases import temporary_database

DEFAULT_URL = os.environ.get("DISPATCH_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
COPY_SQL = (
    "COPY events (stream_id, version, type, schema_version, data, meta, recorded_at, "
    "prev_hash, hash, tx_id) FROM STDIN"
)
# Readers hand out events by transaction id (see ``events.store``): the rows carry ours.
TX_ID_SQL = "SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint)"


def stories(cases: int, seed: int) -> Iterator[tuple[str, list[Step]]]:
    """Cases in order of arrival, spread over the year (busier in office hours)."""
    rng = random.Random(seed)
    seconds = (END - START).total_seconds()
    moment = 0.0
    for number in range(cases):
        moment += rng.expovariate(cases / seconds)
        received = START + timedelta(seconds=min(moment, seconds - 1))
        case_id = uuid.UUID(int=rng.getrandbits(128)).hex
        yield case_id, Story(rng, case_id, number, received).tell()


def interleaved(cases: int, seed: int) -> Iterator[tuple[str, Step, bool]]:
    """Every event of every case in time order: ``(case id, step, is the case's last)``.

    A heap holds only the events of cases still running (about ten days' worth).
    """
    heap: list[tuple[datetime, int, str, Step, bool]] = []
    counter = itertools.count()
    for case_id, steps in stories(cases, seed):
        steps = sorted(steps, key=lambda step: step[0])
        steps = [step for step in steps if step[0] < END] or steps[:1]
        head = steps[0][0]
        while heap and heap[0][0] <= head:
            _, _, cid, step, last = heapq.heappop(heap)
            yield cid, step, last
        for index, step in enumerate(steps):
            heapq.heappush(heap, (step[0], next(counter), case_id, step, index == len(steps) - 1))
    while heap:
        _, _, cid, step, last = heapq.heappop(heap)
        yield cid, step, last


def fill(url: str, cases: int, *, seed: int = 12345, progress: Any = None) -> int:
    """COPY the events of ``cases`` cases into ``events``; returns how many were written."""
    engine = make_engine(url)
    chains: dict[str, tuple[int, str]] = {}
    written = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        tx_id = cursor.execute(TX_ID_SQL).fetchone()[0]  # type: ignore[index]
        copy_cm = cursor.copy(COPY_SQL)  # type: ignore[attr-defined]
        copy = copy_cm.__enter__()
        for case_id, (at, event, who), last in interleaved(cases, seed):
            version, prev = chains.get(case_id, (0, GENESIS))
            version += 1
            data = event.payload()
            meta = {"actor": f"{who}-{written % 50}", "role": who,
                    "command_id": uuid.UUID(int=random.getrandbits(128)).hex,
                    "correlation_id": None, "causation_id": None}  # fmt: skip
            moment = at.astimezone(UTC)
            digest = event_hash(
                prev_hash=prev, stream_id=case_id, version=version, type=event.type,
                schema_version=event.schema_version, data=data, meta=meta, recorded_at=moment,
            )  # fmt: skip
            copy.write_row((
                case_id, version, event.type, event.schema_version,
                json.dumps(data, ensure_ascii=False), json.dumps(meta), moment, prev, digest,
                tx_id,
            ))  # fmt: skip
            if last:
                chains.pop(case_id, None)
            else:
                chains[case_id] = (version, digest)
            written += 1
            if progress is not None and written % 100_000 == 0:
                progress(written)
        copy_cm.__exit__(None, None, None)
        raw.commit()
    finally:
        raw.close()
    # Fresh statistics, as autovacuum would gather on a live log: without them the planner
    # guesses and the rebuild's page queries can pick a sort over the whole table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE events")
    engine.dispose()
    return written


def scratch_database(
    server_url: str, *, keep: bool = False, migrate: Callable[[sa.Engine], object] | None = None
) -> AbstractContextManager[str]:
    """A fresh ``sw_bench_<random>`` database on the server, dropped afterwards unless kept."""
    backend = sa.make_url(normalise_url(server_url)).get_backend_name()
    if backend != "postgresql":
        raise SystemExit(f"the benchmark needs PostgreSQL, not {backend}")
    return temporary_database(server_url, name="bench", migrate=migrate, keep=keep)


def timed(function: Callable[[], Any], runs: int) -> dict[str, float]:
    """p50 / p95 / max of ``runs`` calls, in milliseconds, after one unmeasured call that
    warms the plan and buffer caches as a running server has them."""
    function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        "max_ms": round(samples[-1], 1),
    }


def emit(figures: dict[str, Any], destination: str | None) -> None:
    """Print the figures as a table; ``--json FILE`` also writes them, ``--json`` alone
    prints only the JSON (the convention of every script under ``bench/``)."""
    document = json.dumps(figures, indent=2, default=str)
    if destination == "-":
        print(document)
        return
    if destination:
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        Path(destination).write_text(document + "\n")
    for key, value in figures.items():
        if isinstance(value, dict):
            value = "  ".join(f"{k} {v}" for k, v in value.items())
        print(f"{key:>24}  {value}")


def json_option(parser: Any) -> None:
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="also write the figures as JSON to FILE (alone: print only the JSON)",
    )
