"""Where a multi-row INSERT stops beating COPY for a projection's upsert (``bulk.VALUES_LIMIT``).

    python -m bench.bulk_write [--url postgresql://…] [--sizes 1,10,50,100,200,400,1000] [--json]

In a scratch database, upserts ``n`` case-list rows (34 columns) into a table already holding
them, the way a live catch-up overwrites changed cases, both ways ``bulk.upsert_rows`` can:

- values: one ``INSERT … VALUES (…), (…) ON CONFLICT … DO UPDATE`` statement;
- copy: ``CREATE TEMPORARY TABLE``, binary ``COPY`` into it, ``INSERT … SELECT … ON CONFLICT``,
  ``DROP TABLE`` (four round trips).

Each figure is the median milliseconds of one transaction doing that upsert.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.kpi_cases import DEFAULT_URL, emit, json_option, scratch_database
from dispatch.projections import bulk
from dispatch.projections.case_list import WRITE_ONCE, CaseListProjection
from events.database import make_engine

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def case_row(n: int) -> dict[str, Any]:
    at = T0 + timedelta(minutes=n)
    return {
        "id": f"case-{n:08d}", "case_no": f"20260302-{n:07d}", "status": "dispatched",
        "version": 3, "channel": "phone", "category": "water.outage", "urgency": "normal",
        "description": "小区停水三天，请尽快处理", "address": f"西一路 {n} 号", "lat": 34.27,
        "lon": 108.95, "grid": "XYL-07", "street": "XYL", "reporter_ref": None,
        "received_at": at, "updated_at": at, "lead_department": "water",
        "departments": ",water,", "open_tasks": 1, "overdue": False, "warning_level": None,
        "hops": 1, "reopen_count": 0, "unroutable": None, "answered_at": None,
        "parked_review_on": None, "merged_into": None, "closed_at": None, "urge_count": 0,
        "callback_solved": None, "callback_satisfaction": None,
        "search": f"20260302-{n:07d} 西一路 {n} 号 小区停水三天",
    }  # fmt: skip


def full_row(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every other column of the table filled: a not-null column with a value
    of its type (false, 0, empty text), a nullable one with NULL. Columns added to the case
    list later are covered without touching this bench."""
    filler: dict[type, Any] = {bool: False, int: 0, str: ""}
    missing = {
        column.name: None if column.nullable else filler[column.type.python_type]
        for column in table.c
        if column.name not in row
    }
    return row | missing


def measure(url: str, sizes: list[int], repeats: int) -> dict[str, Any]:
    engine = make_engine(url)
    table = CaseListProjection().define(sa.MetaData(), "_bulkbench")["case_list"]
    columns = [c.name for c in table.c]
    quote = engine.dialect.identifier_preparer.quote
    conflict = f"ON CONFLICT ({quote('id')}) DO UPDATE SET " + ", ".join(
        f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns if c not in WRITE_ONCE
    )
    rows = [tuple(full_row(table, case_row(n))[c] for c in columns) for n in range(max(sizes))]
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        bulk.copy_rows(conn, table, columns, rows)
    figures: dict[str, Any] = {}
    try:
        for size in sizes:
            timings: dict[str, list[float]] = {"values": [], "copy": []}
            for _ in range(repeats):
                for way, limit in (("values", size * len(columns)), ("copy", 0)):
                    bulk.VALUES_LIMIT = limit  # force the path being measured
                    started = time.perf_counter()
                    with engine.begin() as conn:
                        bulk.upsert_rows(conn, table, columns, rows[:size], conflict)
                    timings[way].append((time.perf_counter() - started) * 1000)
            figures[f"{size} rows"] = {
                way: f"{statistics.median(ms):.2f} ms" for way, ms in timings.items()
            }
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server for a scratch db")
    parser.add_argument("--database", help="use this database instead (a table is added, dropped)")
    parser.add_argument("--sizes", default="1,10,50,100,200,400,1000")
    parser.add_argument("--repeats", type=int, default=15)
    json_option(parser)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.database:
        figures = measure(args.database, sizes, args.repeats)
    else:
        with scratch_database(args.url) as url:
            figures = measure(url, sizes, args.repeats)
    emit(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
