"""The SLA scan: raise every warning whose timer has fallen due, once.

Timers are a projection of the log (``dispatch.projections.sla_timers``), caught up at the start
of every scan, so a scheduler or worker that was down for a week finds every deadline that passed
meanwhile. When a stage's red timer is due its yellow one is moot: only red is raised. The
handler's command id (``sla:<task>:<stage>:<level>``) makes a second raise a no-op; a warning
the handler drops (a parked case, a task awaiting a return ruling) is asked again later.

The same scan raises 挂账到期 (``CaseParkReviewDue``) for parked cases whose ``review_on`` has
come in the catalogue's timezone; its command id (``park-review:<case>:<date>``) and the
domain's once-per-parking rule make two schedulers raise it once. And 漏巡
(``PatrolReportMissed``, ``workers.patrol_timers``) for patrol rounds past their time, and
主动治理 (``HotspotDetected``, ``workers.hotspot_timers``) for hotspots in the current window.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from dispatch.bootstrap import Container
from dispatch.handlers import park_review_raised, sla_warning_raised
from dispatch.projections.kpi import KPI_TIMEZONE
from dispatch.projections.runner import ProjectionRunner
from dispatch.projections.sla_timers import SlaTimers, due_park_reviews, due_timers
from events.database import read_only_connection
from workers.hotspot_timers import raise_hotspots
from workers.patrol_timers import raise_missed_patrols

RECHECK = timedelta(minutes=10)
BATCH = 1000

_runners: dict[int, ProjectionRunner] = {}
_dropped: dict[tuple[str, str, str], datetime] = {}
_lock = threading.Lock()


def timers_runner(engine: Engine) -> ProjectionRunner:
    """One runner per engine, its table created on first use."""
    with _lock:
        runner = _runners.get(id(engine))
        if runner is None or runner.engine is not engine:
            runner = ProjectionRunner(engine, [SlaTimers()])
            try:
                runner.ensure_current()
            except IntegrityError:
                runner.ensure_current()  # another process created it at the same moment
            _runners[id(engine)] = runner
        return runner


def timers_table(runner: ProjectionRunner) -> sa.Table:
    return runner.tables(SlaTimers.name)["sla_timers"]


def raise_due_warnings(container: Container, *, limit: int = BATCH) -> dict[str, int]:
    runner = timers_runner(container.engine)
    runner.catch_up()
    now = container.clock()
    with read_only_connection(container.engine) as conn:
        due = due_timers(conn, timers_table(runner), now, limit=limit)
    stages: dict[tuple[str, str], set[str]] = defaultdict(set)
    for timer in due:
        stages[(timer.task_id, timer.stage)].add(timer.level)
    raised = dropped = 0
    with _lock:
        for key in [k for k, until in _dropped.items() if until <= now]:
            del _dropped[key]
    for (task_id, stage), levels in stages.items():
        level = "red" if "red" in levels else "yellow"
        key = (task_id, stage, level)
        with _lock:
            if key in _dropped:
                continue
        if sla_warning_raised(container.handling, task_id, stage, level):
            raised += 1
        else:
            dropped += 1
            with _lock:
                _dropped[key] = now + RECHECK
    reviews = raise_due_park_reviews(container, runner, now, limit=limit)
    if raised or reviews:
        runner.catch_up()  # fold them in, so the next scan does not ask again
    missed = raise_missed_patrols(container, now)
    hotspots = raise_hotspots(container, now)
    return {
        "due": len(due),
        "raised": raised,
        "dropped": dropped,
        "park_reviews": reviews,
        "patrols_missed": missed,
        "hotspots": hotspots,
    }


def raise_due_park_reviews(
    container: Container, runner: ProjectionRunner, now: datetime, *, limit: int = BATCH
) -> int:
    """挂账到期: CaseParkReviewDue for each parked case whose review day has come."""
    active = container.handling.catalogue_source()
    zone = active[1].zone if active is not None else ZoneInfo(KPI_TIMEZONE)
    with read_only_connection(container.engine) as conn:
        reviews = runner.tables(SlaTimers.name)["park_reviews"]
        due = due_park_reviews(conn, reviews, now.astimezone(zone).date(), limit=limit)
    return sum(park_review_raised(container.handling, r.case_id, r.review_on) for r in due)
