"""A month of history for the demo district, written through the real handlers.

``write_history`` loads the demo catalogue, plays the agenda on a ``DemoClock`` (the
container must have been bootstrapped with it), records each task's inbox delivery as the
delivery job would have, catches the projections up and moves the relay's checkpoint to
the head of the log: every case is routed and every task delivered already, so a server
started on the result has no backlog to replay. A few of the month's cases make one hotspot
(主动治理, ``dispatch.demo.hotspot``), raised by the day's last scan.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from dispatch.bootstrap import Container
from dispatch.catalogue.versions import active_catalogue, load_catalogue
from dispatch.demo import scenario
from dispatch.demo.agenda import Agenda, DemoClock, Progress
from dispatch.demo.centre import Story
from dispatch.demo.hotspot import HOTSPOT, hotspot_arrivals, schedule_scans
from dispatch.demo.patrols import schedule_patrols
from dispatch.ops.backlog import RELAY_CHECKPOINT
from dispatch.projections.case_list import live_tables
from events.checkpoints import save_checkpoint

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
DEMO_VERSION = "demo-qinghe"  # the catalogue's version label: marks a demo database
DAYS = 30


@dataclass
class HistoryReport:
    cases: int
    events: int
    seconds: float
    cpu_seconds: float
    start: datetime
    end: datetime
    tally: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, int] = field(default_factory=dict)
    open_overdue: int = 0
    refusals: list[str] = field(default_factory=list)


def load_demo_catalogue(container: Container, *, at: datetime) -> None:
    active = active_catalogue(container.engine)
    text = CATALOGUE_FILE.read_text(encoding="utf-8")
    if active is None or active[1].version != DEMO_VERSION:
        load_catalogue(container.engine, text, loaded_by="demo", now=at)


def write_history(
    container: Container,
    clock: DemoClock,
    *,
    cases: int,
    seed: int,
    end: datetime,
    progress: Progress | None = None,
) -> HistoryReport:
    """``cases`` complaints over the ``DAYS`` days before ``end``, and all that followed."""
    started, cpu_started = time.perf_counter(), time.process_time()
    start = end - timedelta(days=DAYS)
    clock.now = start - timedelta(days=1)
    load_demo_catalogue(container, at=clock.now)
    active = active_catalogue(container.engine)
    assert active is not None
    rng = random.Random(seed)
    clock.now = start
    agenda = Agenda(clock, end)
    story = Story(container, clock, agenda, rng, active[1])
    moments = scenario.arrivals(rng, active[1], start, end, cases)
    hotspot = hotspot_arrivals(random.Random(seed + 23), active[1], start, moments)
    for index, moment in enumerate(moments):
        agenda.at(moment, story.intake, HOTSPOT if index in hotspot else None)
    schedule_patrols(container, agenda, active[1], random.Random(seed + 17), start, end)
    schedule_scans(container, agenda, active[1], start, end)
    agenda.run(every=timedelta(days=5), report=progress)
    container.projector.catch_up()
    with container.store.transaction() as conn:
        head = container.store.head_position(conn=conn)
        save_checkpoint(conn, RELAY_CHECKPOINT, head)
    report = HistoryReport(
        cases=cases,
        events=head,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
        start=start,
        end=end,
        tally=story.tally,
        refusals=story.refusals,
    )
    report.statuses, report.open_overdue = case_mix(container)
    return report


def case_mix(container: Container) -> tuple[dict[str, int], int]:
    """Cases per status, and how many open cases are overdue, from the case list."""
    cases = live_tables()["case_list"]
    with container.store.reading() as conn:
        rows = conn.execute(sa.select(cases.c.status, sa.func.count()).group_by(cases.c.status))
        statuses = {status: int(count) for status, count in rows}
        overdue = conn.execute(
            sa.select(sa.func.count()).select_from(cases).where(cases.c.overdue.is_(True))
        ).scalar()
    return statuses, int(overdue or 0)


def has_history(container: Container) -> bool:
    with container.store.reading() as conn:
        return container.store.head_position(conn=conn) > 0
