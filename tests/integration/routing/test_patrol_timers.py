"""漏巡: once a round's time has passed without a report, the timer scan raises
``PatrolReportMissed`` exactly once per grid and round — with two schedulers scanning at the
same moment on one store, and again after one of them restarts — and the street's
``patrol_missed`` worklist shows it until the round is reported."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatch.bootstrap import Container, bootstrap
from dispatch.catalogue.versions import load_catalogue
from dispatch.domain.patrol import patrol_stream
from dispatch.handlers import Issuer
from dispatch.handlers.actor import SystemActor
from dispatch.handlers.patrols import PatrolReport, new_report_id, report_patrol
from dispatch.queries.worklist_items import Moment, worklist_page
from dispatch.settings import Settings
from workers import timers
from workers.patrol_timers import raise_missed_patrols

from worlds.routing import Clock, claimed_redis, fresh_database

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)
SAMPLE = Path(__file__).parents[3] / "dispatch/catalogue/samples/sample.yaml"
GRIDS = ("XYL-01", "XYL-02", "XYL-03", "CLZ-01", "CLZ-02", "CLZ-03")


def at(hour: int, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(7))


@pytest.fixture
def database(tmp_path: Path, redis_url: str, clock: Clock) -> Iterator[tuple[str, str]]:
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        first = scheduler(database_url, own_redis, clock)
        load_catalogue(
            first.engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="tests", now=clock()
        )
        first.close()
        yield database_url, own_redis


def scheduler(database_url: str, redis_url: str, clock: Clock) -> Container:
    return bootstrap(Settings(database_url=database_url, redis_url=redis_url), clock=clock)


def missed_events(container: Container, grid: str, day: date = DAY) -> list[dict[str, object]]:
    stream = container.store.read_stream(patrol_stream(grid, day))
    return [e.data for e in stream if e.type == "PatrolReportMissed"]


def zero_report(container: Container, grid: str, round_: str) -> None:
    worker = SystemActor(username=f"grid-{grid}", roles=frozenset({"grid"}), grid=grid)
    report = PatrolReport(grid=grid, round=round_)
    report_patrol(container.handling, new_report_id(), report, Issuer(actor=worker, role="grid"))


def test_a_missed_round_is_raised_once_by_two_schedulers_and_after_a_restart(
    database: tuple[str, str], clock: Clock
) -> None:
    one, two = scheduler(*database, clock), scheduler(*database, clock)
    zero_report(one, "XYL-01", "早巡")
    assert raise_missed_patrols(one) == 0, "nothing is due before 10:00"

    clock.now = at(11)
    counts: list[int] = []
    scans = [
        threading.Thread(target=lambda c=c: counts.append(raise_missed_patrols(c)))
        for c in (one, two)
    ]
    for scan in scans:
        scan.start()
    for scan in scans:
        scan.join()
    two.close()
    restarted = scheduler(*database, clock)
    again = timers.raise_due_warnings(restarted)["patrols_missed"]

    assert sum(counts) == len(GRIDS) - 1 and again == 0
    assert missed_events(restarted, "XYL-01") == []
    for grid in GRIDS[1:]:
        assert [e["round"] for e in missed_events(restarted, grid)] == ["早巡"]
    one.close()
    restarted.close()


def test_the_streets_worklist_shows_its_missed_rounds_until_reported(
    database: tuple[str, str], clock: Clock
) -> None:
    container = scheduler(*database, clock)
    clock.now = at(16)
    raise_missed_patrols(container)
    officer = SystemActor(username="xyl", roles=frozenset({"street"}), street="XYL")
    moment = Moment(now=clock(), today=DAY)

    def missed() -> set[tuple[str, str]]:
        container.fresh("patrol_reports")
        with container.store.reading() as conn:
            items, total = worklist_page(conn, officer, "patrol_missed", at=moment)
        assert total == len(items)
        return {(i["grid"], i["round"]) for i in items}

    assert missed() == {(g, r) for g in GRIDS[:3] for r in ("早巡", "午巡")}
    zero_report(container, "XYL-02", "午巡")  # late, but reported
    assert ("XYL-02", "午巡") not in missed()
    assert [e["round"] for e in missed_events(container, "XYL-02")] == ["早巡", "午巡"]
    container.close()


def test_rounds_before_the_first_catalogue_are_never_missed(
    database: tuple[str, str], clock: Clock
) -> None:
    container = scheduler(*database, clock)
    clock.now = at(11, DAY + timedelta(days=1))

    raise_missed_patrols(container)

    assert missed_events(container, "XYL-01", DAY - timedelta(days=1)) == []
    assert [e["round"] for e in missed_events(container, "XYL-01")] == ["早巡", "午巡", "晚巡"]
    container.close()
