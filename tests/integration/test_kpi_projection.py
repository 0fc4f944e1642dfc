"""The KPI facts kept batch by batch equal a rebuild from position 0; a replay changes nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.kpi import KpiProjection
from dispatch.queries.kpis import kpi_rows
from events import EventStore
from events.store import as_utc

from worlds.case_story import MINUTE, CaseStory, take_step

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
DEPARTMENTS = ("water", "roads", "city")


def tell(story: CaseStory, rng: random.Random) -> None:
    """A random but plausible history: any prefix of the usual path, with detours."""
    clock = [T0 + rng.randrange(0, 60 * 24 * 20) * MINUTE]

    def tick() -> datetime:
        clock[0] += rng.randrange(1, 60 * 30) * MINUTE
        return clock[0]

    story.received(clock[0])
    if rng.random() < 0.1:
        story.answered(tick())
        return
    tasks = [story.dispatched(tick(), rng.choice(DEPARTMENTS))]
    if rng.random() < 0.3:
        tasks.append(story.dispatched(tick(), rng.choice(DEPARTMENTS), role="assist"))
    for _ in range(rng.randrange(0, 12)):
        task, at = rng.choice(tasks), tick()
        step = rng.choice(
            ["sign", "contact", "reply", "return", "extend", "callback", "close", "reopen",
             "cancel", "park", "merge", "lead"]
        )  # fmt: skip
        take_step(story, rng, step, at, task, tasks=tasks, summoned=[], departments=DEPARTMENTS)


def dump(engine: Engine, tables: dict[str, sa.Table]) -> dict[str, list[tuple[Any, ...]]]:
    def plain(value: Any) -> Any:
        return as_utc(value) if isinstance(value, datetime) else value

    with engine.connect() as conn:
        return {
            name: [
                tuple(plain(v) for v in row)
                for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in tables.items()
        }


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seeds=st.lists(st.integers(0, 2**32), min_size=1, max_size=6), batch=st.integers(1, 40))
def test_incremental_facts_equal_a_rebuild(scratch_engine: Engine, seeds, batch) -> None:
    store = EventStore(scratch_engine)
    runner = ProjectionRunner(scratch_engine, [KpiProjection()], batch_size=batch)
    runner.ensure_tables()
    for seed in seeds:
        rng = random.Random(seed)
        tell(CaseStory(store, category=f"cat-{rng.randrange(3)}"), rng)
        runner.catch_up("kpi", max_batches=rng.randrange(1, 4))  # interleave with appends
    runner.catch_up("kpi")
    tables = runner.tables("kpi")
    incremental = dump(scratch_engine, tables)

    projection = runner.projection("kpi")
    with scratch_engine.begin() as conn:
        projection.apply(conn, tables, store.read_all(limit=1_000_000, conn=conn))
    assert dump(scratch_engine, tables) == incremental  # a replayed batch changes nothing

    runner.rebuild("kpi")
    assert dump(scratch_engine, runner.tables("kpi")) == incremental


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seeds=st.lists(st.integers(0, 2**32), min_size=1, max_size=8),
    hours=st.lists(st.integers(0, 24 * 40), min_size=1, max_size=4),
)
def test_the_daily_rollup_answers_as_the_facts_do(scratch_engine: Engine, seeds, hours) -> None:
    store = EventStore(scratch_engine)
    for seed in seeds:
        rng = random.Random(seed)
        tell(CaseStory(store, category=f"cat-{rng.randrange(3)}"), rng)
    runner = ProjectionRunner(scratch_engine, [KpiProjection()], batch_size=17)
    runner.ensure_tables()
    runner.catch_up("kpi")
    beijing = ZoneInfo("Asia/Shanghai")
    start, end = datetime(2026, 11, 1, tzinfo=beijing), datetime(2026, 12, 16, tzinfo=beijing)
    with scratch_engine.connect() as conn:
        for hour in hours:
            now = start + timedelta(hours=hour)
            for group_by in ("department", "category", "grid", "street", "day"):
                options = {"group_by": group_by, "start": start, "end": end, "now": now}
                assert kpi_rows(conn, **options) == kpi_rows(conn, exact=True, **options)
