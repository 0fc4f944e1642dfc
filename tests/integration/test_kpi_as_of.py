"""``as_of`` counts what the log held then (DESIGN.md §3): the KPI rows of the whole log asked
``as_of`` a moment equal those of the same log cut at that moment, asked ``now`` then.

The histories are random prefixes of the usual path with every detour that dates a fact
(extensions, callbacks, closures, reopenings, parking, returns, evaluations), each cut at a
random hour, so that a fact recorded just before, at or just after the cut is tried.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.kpi import KpiProjection
from dispatch.queries.kpis import GROUPS, kpi_rows
from events import EventStore

from worlds.case_story import HOUR, MINUTE, CaseStory, take_step

BEIJING = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DEPARTMENTS = ("water", "roads", "city")
STEPS = (
    "sign", "contact", "reply", "return", "extend", "callback", "close", "reopen", "cancel",
    "park", "unpark", "merge", "lead", "summon", "evaluate",
)  # fmt: skip
_windows = itertools.count()  # each example its own stretch of time: earlier ones stay in


class Recorder:
    """Takes a story's appends instead of the store, to play them into the log later."""

    def __init__(self) -> None:
        self.appends: list[tuple[str, Any, int, Any, datetime]] = []

    def append(self, stream_id: str, events: Any, *, expected_version: int, meta: Any, now: Any):
        self.appends.append((stream_id, events, expected_version, meta, now))


def tell(story: CaseStory, rng: random.Random, start: datetime) -> None:
    clock = [start + rng.randrange(0, 60 * 24 * 10) * MINUTE]

    def tick() -> datetime:
        clock[0] += rng.randrange(1, 60 * 20) * MINUTE
        return clock[0]

    story.received(clock[0])
    if rng.random() < 0.05:
        story.answered(tick())
        return
    tasks = [story.dispatched(tick(), rng.choice(DEPARTMENTS))]
    summoned: list[str] = []
    for _ in range(rng.randrange(0, 14)):
        task, at, step = rng.choice(tasks), tick(), rng.choice(STEPS)
        take_step(
            story, rng, step, at, task, tasks=tasks, summoned=summoned, departments=DEPARTMENTS
        )


def play(store: EventStore, appends: list[tuple[str, Any, int, Any, datetime]]) -> None:
    for stream_id, events, version, meta, at in appends:
        store.append(stream_id, events, expected_version=version, meta=meta, now=at)


def rows(engine: Engine, **options: Any) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {group_by: kpi_rows(conn, group_by=group_by, **options) for group_by in GROUPS}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seeds=st.lists(st.integers(0, 2**32), min_size=1, max_size=8),
    cut=st.integers(0, 24 * 16),
)
def test_as_of_counts_what_the_log_cut_then_counts(scratch_engine: Engine, seeds, cut) -> None:
    start = T0 + next(_windows) * 60 * DAY
    recorder = Recorder()
    for seed in seeds:
        rng = random.Random(seed)
        tell(CaseStory(recorder, category=f"cat-{rng.randrange(3)}"), rng, start)  # type: ignore[arg-type]
    moment = start + cut * HOUR
    before = [append for append in recorder.appends if append[4] < moment]
    after = [append for append in recorder.appends if append[4] >= moment]
    store = EventStore(scratch_engine)
    runner = ProjectionRunner(scratch_engine, [KpiProjection()], batch_size=23)
    runner.ensure_tables()
    period = {
        "start": datetime.combine(start.astimezone(BEIJING).date(), datetime.min.time(), BEIJING),
        "end": datetime.combine((start + 40 * DAY).date(), datetime.min.time(), BEIJING),
    }

    play(store, before)
    runner.catch_up("kpi")
    then = rows(scratch_engine, now=moment, exact=True, **period)
    assert rows(scratch_engine, now=moment, **period) == then  # the rollup agrees

    play(store, after)
    runner.catch_up("kpi")
    later = moment + 30 * DAY
    assert rows(scratch_engine, now=later, as_of=moment, **period) == then
