"""Rebuild speed of the case list beside a raw scan of the same events, in the same run.

The log is filled with realistic case histories (received, dispatched to a lead and sometimes
an assisting department, signed, contacted, warned, extended, replied, called back, closed),
interleaved the way a day's work interleaves them: a batch of the log touches many cases, not
one. Rows go straight into ``events`` with a real hash chain, because filling the log is not
what is measured. Then:

- raw select: ``SELECT * FROM events ORDER BY position`` through a server-side cursor;
- store scan: ``EventStore.iter_all`` (safe reading, a ``RecordedEvent`` per row);
- rebuild: ``ProjectionRunner.rebuild(...)`` — shadow tables, batches, swap.

The figures are only comparable within one run: on a busy machine all three drop together.

    python -m bench.projection_rebuild [--url postgresql://…] [--events 200000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.kpi_cases import scratch_database
from dispatch.domain import events as ev
from dispatch.ops.migrations import prepare_database
from dispatch.projections import ProjectionRunner, default_projections
from events import Event, EventStore
from events.database import make_engine
from events.hashing import GENESIS, event_hash
from events.schema import events

DEFAULT_URL = "postgresql://postgres@127.0.0.1/test"
TARGET = 20_000.0
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def history(case_id: str, n: int, rng: random.Random) -> list[Event]:
    """One case's events, about nine on average."""
    loc = ev.Location(address=f"西一路 {n} 号", lat=34.27, lon=108.95, grid="XYL-07", street="XYL")
    deadlines = ev.Deadlines(
        sign_by=T0 + timedelta(hours=24),
        contact_by=T0 + timedelta(days=2),
        reply_by=T0 + timedelta(days=7),
    )

    def task(task_id: str, department: str, role: str) -> ev.CaseDispatched:
        return ev.CaseDispatched(
            task_id=task_id, department=department, role=role,  # type: ignore[arg-type]
            rule_id="R-water", catalogue_version=1, policy="general", warn_at=0.8,
            max_extension="15wd", deadlines=deadlines, calendar_version="2026",
        )  # fmt: skip

    lead, assist = f"{case_id}-1", f"{case_id}-2"
    out: list[Event] = [
        ev.CaseReceived(
            case_no=f"20260302-{n:07d}",
            channel="phone",
            category="water.outage",
            description="小区停水三天，请尽快处理",
            urgency="normal",
            location=loc,
            reporter_ref=None,
            received_at=T0,
        ),
        task(lead, rng.choice(["water", "roads", "city"]), "lead"),
    ]
    if rng.random() < 0.3:
        out += [task(assist, "xyl-office", "assist"), ev.TaskSigned(task_id=assist)]
    out += [ev.TaskSigned(task_id=lead), ev.CitizenContacted(task_id=lead, note="已电话联系")]
    if rng.random() < 0.2:
        out.append(ev.SlaWarningRaised(task_id=lead, stage="reply", level="yellow", deadline=T0))
    if rng.random() < 0.1:
        out += [
            ev.ExtensionRequested(task_id=lead, reply_by=T0 + timedelta(days=9), reason="施工"),
            ev.ExtensionApproved(task_id=lead, reply_by=T0 + timedelta(days=9)),
        ]
    out.append(ev.TaskReplied(task_id=lead, resolution="已恢复供水"))
    if assist in {getattr(e, "task_id", None) for e in out}:
        out.append(ev.TaskReplied(task_id=assist, resolution="已配合"))
    out += [ev.CallbackRecorded(solved="solved", satisfaction="satisfied"), ev.CaseClosed()]
    return out


def fill(engine: sa.Engine, target: int, *, wave: int = 2000, seed: int = 7) -> int:
    """Append about ``target`` events, ``wave`` cases at a time, one step of each in turn."""
    rng = random.Random(seed)
    written = n = 0
    while written < target:
        stories = {}
        for _ in range(wave):
            n += 1
            case_id = uuid.uuid4().hex
            stories[case_id] = history(case_id, n, rng)
        chains = dict.fromkeys(stories, GENESIS)
        rows: list[dict[str, Any]] = []
        step = 0
        while any(step < len(h) for h in stories.values()):
            for case_id, events_ in stories.items():
                if step < len(events_):
                    rows.append(_row(case_id, step + 1, events_[step], chains))
            step += 1
        with engine.begin() as conn:
            # Readers hand out only events whose writer is finished (``tx_id`` below the
            # horizon, see ``events.store``), so the rows carry their transaction's id.
            tx_id = conn.exec_driver_sql(
                "SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint)"
            ).scalar_one()
            for row in rows:
                row["tx_id"] = tx_id
            for start in range(0, len(rows), 5000):
                conn.execute(events.insert(), rows[start : start + 5000])
        written += len(rows)
    return written


def _row(case_id: str, version: int, event: Event, chains: dict[str, str]) -> dict[str, Any]:
    data = event.payload()
    meta = {"actor": "bench", "role": "system", "command_id": uuid.uuid4().hex}
    at = T0 + timedelta(minutes=version)
    digest = event_hash(
        prev_hash=chains[case_id], stream_id=case_id, version=version, type=event.type,
        schema_version=event.schema_version, data=data, meta=meta, recorded_at=at,
    )  # fmt: skip
    row = {
        "stream_id": case_id, "version": version, "type": event.type,
        "schema_version": event.schema_version, "data": data, "meta": meta,
        "recorded_at": at, "prev_hash": chains[case_id], "hash": digest,
    }  # fmt: skip
    chains[case_id] = digest
    return row


def raw_select(engine: sa.Engine, batch: int) -> tuple[int, float]:
    """``SELECT * FROM events ORDER BY position`` through a server-side cursor, rows untouched."""
    started = time.perf_counter()
    count = 0
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=batch).execute(
            sa.select(events).order_by(events.c.position)
        )
        for part in result.partitions():
            count += len(part)
    return count, time.perf_counter() - started


def store_scan(engine: sa.Engine, batch: int) -> tuple[int, float]:
    """The store's own safe reader (``iter_all``), which builds a ``RecordedEvent`` per row."""
    started = time.perf_counter()
    count = 0
    for chunk in EventStore(engine).iter_all(batch=batch):
        count += len(chunk)
    return count, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server for a scratch db")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--projection", default="case_list")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with scratch_database(args.url) as url:
        engine = make_engine(url)
        prepare_database(engine)
        total = fill(engine, args.events)
        runner = ProjectionRunner(engine, default_projections())
        selected, select_seconds = raw_select(engine, runner.rebuild_batch_size)
        scanned, scan_seconds = store_scan(engine, runner.rebuild_batch_size)
        started = time.perf_counter()
        applied = runner.rebuild(args.projection)
        rebuild_seconds = time.perf_counter() - started
        engine.dispose()
    figures = {
        "events": total,
        "raw_select_events_per_s": round(selected / select_seconds),
        "store_scan_events_per_s": round(scanned / scan_seconds),
        "rebuild_events_per_s": round(applied / rebuild_seconds),
        "rebuild_seconds": round(rebuild_seconds, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "target_events_per_s": TARGET,
    }
    figures["target_met"] = figures["rebuild_events_per_s"] >= TARGET
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>24}  {value}")
    return 0 if figures["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
