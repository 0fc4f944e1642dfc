"""Big batches take other paths than small ones (``COPY`` instead of one INSERT, a rebuild's
insert-only ``fill`` instead of ``apply``): all of them must leave the same rows."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.domain import events as ev
from dispatch.projections import ProjectionRunner, kpi
from dispatch.projections.bulk import VALUES_LIMIT
from dispatch.projections.kpi import KpiProjection
from events import EventStore
from events.scan import scan_streams
from events.store import as_utc

from worlds.case_story import MINUTE, CaseStory
from worlds.projection_story import isolated_projection, rows_of

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
# More rows per table than one multi-row INSERT takes (case_log, the narrowest table with
# one row per closed case, has 6 columns).
CASES = VALUES_LIMIT // 6 + 60


def tell(story: CaseStory, rng: random.Random) -> None:
    at = T0 + rng.randrange(0, 60 * 24 * 20) * MINUTE
    story.received(at)
    lead = story.dispatched(at + 5 * MINUTE, rng.choice(["water", "roads", "city"]))
    if rng.random() < 0.3:
        story.dispatched(at + 6 * MINUTE, "city", role="assist")
    story.signed(at + rng.randrange(10, 3000) * MINUTE, lead)
    if rng.random() < 0.2:
        story._append(
            ev.SlaWarningRaised(task_id=lead, stage="reply", level="yellow", deadline=at),
            at + 3000 * MINUTE,
        )
        story.extension_approved(at + 3001 * MINUTE, lead, reply_by=at + timedelta(days=9))
    story.replied(at + 4000 * MINUTE, lead)
    if rng.random() < 0.7:
        story.callback(at + 4100 * MINUTE, "solved", rng.choice(["satisfied", "basic", "none"]))
        story.closed(at + 4200 * MINUTE)


def told(engine: Engine, count: int, *, seed: int, category: str) -> EventStore:
    """``count`` case histories in one category, the same ones for the same seed."""
    store = EventStore(engine)
    rng = random.Random(seed)
    for _ in range(count):
        tell(CaseStory(store, category=category), rng)
    return store


def plain(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows with every time in UTC (SQLite hands them back naive)."""
    return {
        name: sorted(
            tuple(as_utc(v) if isinstance(v, datetime) else v for v in row) for row in rows
        )
        for name, rows in tables.items()
    }


def test_small_batches_big_batches_and_a_rebuild_leave_the_same_rows(
    scratch_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EventStore(scratch_engine)
    rng = random.Random(5)
    for _ in range(CASES):
        tell(CaseStory(store, category=f"cat-{rng.randrange(3)}"), rng)
    case_list = isolated_projection("bulk")
    small = ProjectionRunner(scratch_engine, [case_list, KpiProjection()], batch_size=7)
    small.ensure_tables()
    small.catch_up()
    expected = {
        name: plain(rows_of(scratch_engine, small, name)) for name in ("kpi", case_list.name)
    }
    assert len(expected[case_list.name]["case_list"]) == CASES

    # One catch-up batch holding the whole log: upserts through COPY.
    big_list = isolated_projection("bulkbig")
    big = ProjectionRunner(scratch_engine, [big_list], batch_size=100_000)
    big.ensure_tables()
    big.catch_up()
    assert plain(rows_of(scratch_engine, big, big_list.name)) == expected[case_list.name]

    # A rebuild: whole streams inserted through ``fill``, indexes built afterwards.
    for name in ("kpi", case_list.name):
        small.rebuild(name)
        assert plain(rows_of(scratch_engine, small, name)) == expected[name]
    # Small pages, and the KPI rollup added many times during the fill instead of once.
    monkeypatch.setattr(kpi, "HOLD_ROWS", 25)
    small.rebuild_batch_size = 40
    small.rebuild("kpi")
    assert plain(rows_of(scratch_engine, small, "kpi")) == expected["kpi"]
    with scratch_engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("kpi_tasks")}
    assert "ix_kpi_tasks_case" in indexes


def test_a_scan_left_half_way_stops_its_reader(scratch_engine: Engine) -> None:
    """A fill that fails mid-way stops reading: the prefetching thread ends, and the
    connection is usable again (and the whole scan still sees every event once)."""
    store = told(scratch_engine, 30, seed=9, category="cat-0")
    head = store.head_position()
    with scratch_engine.connect() as conn:
        pages = scan_streams(conn, head, 5)
        first = next(pages)
        pages.close()
        assert conn.execute(sa.select(sa.literal(1))).scalar() == 1
    assert {e.stream_id for e in first} and len(first) >= 5
    assert not [t for t in threading.enumerate() if t.name == "events-scan"]
    with scratch_engine.connect() as conn:
        seen = [(e.stream_id, e.version) for page in scan_streams(conn, head, 7) for e in page]
    assert len(seen) == head and len(set(seen)) == head
    streams = [stream for stream, _ in seen]
    for stream in set(streams):  # each stream whole, in version order, in one run
        versions = [v for s, v in seen if s == stream]
        assert versions == list(range(1, len(versions) + 1))
        first_at = streams.index(stream)
        assert streams[first_at : first_at + len(versions)] == [stream] * len(versions)


def test_a_fill_that_fails_half_way_leaves_the_live_tables_and_the_pool_sound(
    scratch_engine: Engine,
) -> None:
    told(scratch_engine, 12, seed=11, category="cat-1")
    projection = isolated_projection("failing")
    runner = ProjectionRunner(scratch_engine, [projection], batch_size=3)
    runner.ensure_tables()
    runner.catch_up()
    before = rows_of(scratch_engine, runner, projection.name)
    runner.rebuild_batch_size = 3
    pages = []

    def failing_fill(conn: Any, tables: Any, batch: Any) -> None:
        pages.append(batch)
        if len(pages) == 2:
            raise RuntimeError("the disk is full")
        type(projection).fill(projection, conn, tables, batch)

    projection.fill = failing_fill
    with pytest.raises(RuntimeError, match="disk is full"):
        runner.rebuild(projection.name)
    assert not [t for t in threading.enumerate() if t.name == "events-scan"]
    assert rows_of(scratch_engine, runner, projection.name) == before
    del projection.fill
    runner.rebuild(projection.name)
    assert rows_of(scratch_engine, runner, projection.name) == before


def test_a_live_batch_between_two_fill_pages_leaves_the_held_rollup_alone(
    scratch_engine: Engine,
) -> None:
    store = told(scratch_engine, 6, seed=13, category="cat-2")
    projection = KpiProjection()
    shadow = projection.define(sa.MetaData(), "_heldfill")
    live = projection.define(sa.MetaData(), "_heldlive")
    events = store.read_all(limit=10_000)
    try:
        with scratch_engine.begin() as conn:
            for table in [*shadow.values(), *live.values()]:
                table.create(conn)
        with scratch_engine.begin() as conn:
            projection.fill(conn, shadow, events)  # the rollup is held back
        with scratch_engine.begin() as conn:
            projection.apply(conn, live, events)  # a live batch meanwhile
        with scratch_engine.begin() as conn:
            projection.fill_done(conn, shadow)
        with scratch_engine.connect() as conn:
            daily = [sorted(conn.execute(sa.select(t["daily"])).all()) for t in (shadow, live)]
        assert daily[0] and daily[0] == daily[1]
    finally:
        with scratch_engine.begin() as conn:
            for table in [*shadow.values(), *live.values()]:
                table.drop(conn, checkfirst=True)
