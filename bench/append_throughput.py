"""Append throughput through ``EventStore.append`` against a raw single-row INSERT.

Both sides write the same rows — same columns, JSON payload, meta and hash strings — one row
per transaction, from the same number of concurrent writer processes, each on its own streams,
for the same time, through the same kind of engine. The raw side inserts into
``bench_raw_events``, a table shaped like ``events`` (keys, unique constraint, index) without
the store's work around the insert: command-id check, stream head, lock, commands row.

    python -m bench.append_throughput [--url postgresql://…] [--seconds 10] [--json [FILE]]

The script creates a scratch database on the server named by ``--url`` (or
``DISPATCH_BENCH_DATABASE_URL``), migrates it, and drops it at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.kpi_cases import json_option, scratch_database
from dispatch.ops.migrations import upgrade_database
from events import Event, EventStore, Meta
from events.database import make_engine
from events.hashing import GENESIS, event_hash
from events.schema import Position
from events.store import utcnow

DEFAULT_URL = "postgresql://postgres@127.0.0.1/test"
TARGET_RATIO = 0.5

raw_metadata = sa.MetaData()
raw_events = sa.Table(
    "bench_raw_events",
    raw_metadata,
    sa.Column("position", Position, primary_key=True, autoincrement=True),
    sa.Column("stream_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("stream_id", "version", name="uq_bench_raw_events_stream_version"),
    sa.Index("ix_bench_raw_events_type_position", "type", "position"),
)


class CaseReceived(Event):
    type: ClassVar[str] = "CaseReceived"
    channel: str
    category: str
    description: str
    urgency: str
    location: dict[str, object]
    reporter_ref: str


EVENT = CaseReceived(
    channel="phone",
    category="water.outage",
    description="西一路兴乐社区3号楼从早上开始停水，老人家里没有储水，请尽快处理。",
    urgency="normal",
    location={"address": "西一路兴乐社区3号楼", "lat": 34.275, "lon": 108.955, "grid": "XYL-07"},
    reporter_ref="pd_" + "0" * 32,
)


@dataclass(frozen=True)
class Phase:
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


@dataclass(frozen=True)
class Figures:
    writers: int
    seconds_per_phase: float
    rounds: int
    events_per_stream: int
    raw_events: int
    store_events: int
    raw_events_per_s: float
    store_events_per_s: float
    ratio: float
    raw_per_round: list[float]
    store_per_round: list[float]
    target_ratio: float = TARGET_RATIO

    @property
    def met(self) -> bool:
        return self.ratio >= self.target_ratio


# -- writers -------------------------------------------------------------------------------


def meta_for(command_id: str) -> Meta:
    return Meta(actor="bench", role="operator", command_id=command_id)


def raw_writer(engine: Engine, writer: int, events_per_stream: int) -> Callable[[int], None]:
    """One raw INSERT per transaction, of the row the store would write."""
    payload = EVENT.payload()
    meta = meta_for(uuid.uuid4().hex).as_dict()
    digest = event_hash(
        prev_hash=GENESIS,
        stream_id="raw",
        version=1,
        type=EVENT.type,
        schema_version=EVENT.schema_version,
        data=payload,
        meta=meta,
        recorded_at=utcnow(),
    )
    insert = raw_events.insert()
    run = uuid.uuid4().hex[:8]

    def write(n: int) -> None:
        stream, version = divmod(n, events_per_stream)
        row = {
            "stream_id": f"raw-{run}-{writer}-{stream}",
            "version": version + 1,
            "type": EVENT.type,
            "schema_version": EVENT.schema_version,
            "data": payload,
            "meta": meta,
            "recorded_at": utcnow(),
            "prev_hash": digest,
            "hash": digest,
        }
        with engine.begin() as conn:
            conn.execute(insert, row)

    return write


def store_writer(store: EventStore, writer: int, events_per_stream: int) -> Callable[[int], None]:
    """One ``EventStore.append`` of one event per call, continuing the writer's own stream."""
    run = uuid.uuid4().hex[:8]

    def write(n: int) -> None:
        stream, version = divmod(n, events_per_stream)
        store.append(
            f"store-{run}-{writer}-{stream}",
            [EVENT],
            expected_version=version,
            meta=meta_for(uuid.uuid4().hex),
        )

    return write


Side = str  # "raw" or "store"


def _writer(url: str, side: Side, writer: int, events_per_stream: int) -> Callable[[int], None]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    if side == "raw":
        return raw_writer(engine, writer, events_per_stream)
    return store_writer(EventStore(engine), writer, events_per_stream)


def _write_for(
    url: str,
    side: Side,
    writer: int,
    events_per_stream: int,
    seconds: float,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One writer process: connect and write once (not counted), say so, wait for the
    start, then write for ``seconds`` and report ``(events, seconds)`` or the error."""
    try:
        write = _writer(url, side, writer, events_per_stream)
        write(0)
    except BaseException as error:
        ready.put(repr(error))
        return
    ready.put(None)
    go.wait()
    count, began = 0, time.perf_counter()
    try:
        while time.perf_counter() - began < seconds:
            count += 1
            write(count)
    except BaseException as error:
        results.put(repr(error))
        return
    results.put((count, time.perf_counter() - began))


def run_phase(url: str, side: Side, writers: int, seconds: float, events_per_stream: int) -> Phase:
    """``writers`` processes write for ``seconds`` at the same moment: processes, not
    threads, as the service's writers are (API processes, workers); threads of one
    interpreter would measure how the two sides share its lock instead of the database."""
    context = multiprocessing.get_context("fork")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    args = (url, side)
    processes = [
        context.Process(
            target=_write_for,
            args=(*args, w, events_per_stream, seconds, ready, go, results),
            daemon=True,
        )
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    try:
        failures = [f for f in (ready.get(timeout=120) for _ in processes) if f is not None]
        go.set()
        outcomes = [results.get(timeout=seconds + 120) for _ in processes] if not failures else []
    finally:
        for process in processes:
            process.join(timeout=30)
    failures += [o for o in outcomes if isinstance(o, str)]
    if failures:
        raise RuntimeError(f"{side} writer failed: {failures[0]}")
    return Phase(events=sum(events for events, _ in outcomes), seconds=max(t for _, t in outcomes))


# -- scratch database ----------------------------------------------------------------------


def migrate(engine: Engine) -> None:
    """The store's schema, and ``bench_raw_events`` beside it."""
    upgrade_database(engine)
    raw_metadata.create_all(engine)


# -- the run -------------------------------------------------------------------------------


def measure(
    url: str, *, writers: int, seconds: float, rounds: int, warmup: float, events_per_stream: int
) -> Figures:
    """Alternate raw and store phases, so that a busy neighbour slows both sides alike."""

    def raw_side(duration: float) -> Phase:
        return run_phase(url, "raw", writers, duration, events_per_stream)

    def store_side(duration: float) -> Phase:
        return run_phase(url, "store", writers, duration, events_per_stream)

    raw_phases: list[Phase] = []
    store_phases: list[Phase] = []
    if warmup > 0:
        raw_side(warmup)
        store_side(warmup)
    for round_ in range(rounds):
        if round_ % 2 == 0:
            raw_phases.append(raw_side(seconds))
            store_phases.append(store_side(seconds))
        else:
            store_phases.append(store_side(seconds))
            raw_phases.append(raw_side(seconds))
    raw_rate = sum(p.events for p in raw_phases) / sum(p.seconds for p in raw_phases)
    store_rate = sum(p.events for p in store_phases) / sum(p.seconds for p in store_phases)
    return Figures(
        writers=writers,
        seconds_per_phase=seconds,
        rounds=rounds,
        events_per_stream=events_per_stream,
        raw_events=sum(p.events for p in raw_phases),
        store_events=sum(p.events for p in store_phases),
        raw_events_per_s=round(raw_rate, 1),
        store_events_per_s=round(store_rate, 1),
        ratio=round(store_rate / raw_rate, 3),
        raw_per_round=[round(p.rate, 1) for p in raw_phases],
        store_per_round=[round(p.rate, 1) for p in store_phases],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("DISPATCH_BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL server to create the scratch database on",
    )
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer processes")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="raw/store phase pairs to average")
    parser.add_argument("--warmup", type=float, default=2.0, help="an uncounted first round")
    parser.add_argument("--events-per-stream", type=int, default=20, help="then a new stream")
    json_option(parser)
    args = parser.parse_args(argv)

    with scratch_database(args.url, migrate=migrate) as url:
        figures = measure(
            url,
            writers=args.writers,
            seconds=args.seconds,
            rounds=args.rounds,
            warmup=args.warmup,
            events_per_stream=args.events_per_stream,
        )
    document = json.dumps({**asdict(figures), "target_met": figures.met}, indent=2)
    if args.json == "-":
        print(document)
        return 0
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(document + "\n")
    print(
        f"{figures.writers} writers, one event per transaction, "
        f"{figures.rounds} × {figures.seconds_per_phase:g} s per side"
    )
    sides = [
        ("raw INSERT", figures.raw_events_per_s, figures.raw_per_round),
        ("EventStore.append", figures.store_events_per_s, figures.store_per_round),
    ]
    for name, rate, per_round in sides:
        rounds = ", ".join(f"{r:,.0f}" for r in per_round)
        print(f"{name:<18}{rate:>10,.1f} events/s   (rounds: {rounds})")
    verdict = "meets" if figures.met else "is below"
    print(f"{'ratio':<18}{figures.ratio:>10.3f}            ({verdict} the target {TARGET_RATIO})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
