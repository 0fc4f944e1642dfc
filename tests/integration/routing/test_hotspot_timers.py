"""主动治理: once a grid has ``min_cases`` cases of one category in one window, the timer scan
raises ``HotspotDetected`` exactly once — with two schedulers scanning at the same moment and
again after one restarts — naming the cases a hand count finds; the street's ``hotspots``
worklist shows it (another street's does not), and the grid map counts it.

The sample catalogue with ``hotspots: {window_days: 7, min_cases: 5}``: windows are
Monday-to-Sunday weeks; 2026-11-30 is a Monday.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from dispatch.bootstrap import Container, bootstrap
from dispatch.catalogue.versions import load_catalogue
from dispatch.domain.hotspot import hotspot_stream, window_of
from dispatch.handlers import Issuer
from dispatch.handlers.actor import SystemActor
from dispatch.handlers.intake import Complaint, new_case_id
from dispatch.queries.grid_map import grid_values
from dispatch.queries.worklist_items import Moment, worklist_page
from dispatch.settings import Settings
from events import event_table
from workers import timers
from workers.hotspot_timers import raise_hotspots

from worlds.routing import Clock, claimed_redis, fresh_database

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 30)
SAMPLE = Path(__file__).parents[3] / "dispatch/catalogue/samples/sample.yaml"
HOTSPOTS = "\nhotspots: {window_days: 7, min_cases: 5}\n"
OPERATOR = Issuer(
    actor=SystemActor(username="operator-test", roles=frozenset({"operator"})), role="operator"
)
XYL_OFFICER = SystemActor(username="xyl", roles=frozenset({"street"}), street="XYL")
CLZ_OFFICER = SystemActor(username="clz", roles=frozenset({"street"}), street="CLZ")
SUPERVISOR = SystemActor(username="sup", roles=frozenset({"supervisor"}))


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(MONDAY - timedelta(days=14), 8))


@pytest.fixture
def database(tmp_path: Path, redis_url: str, clock: Clock) -> Iterator[tuple[str, str]]:
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        first = scheduler(database_url, own_redis, clock)
        text = SAMPLE.read_text(encoding="utf-8") + HOTSPOTS
        load_catalogue(first.engine, text, loaded_by="tests", now=clock())
        first.close()
        yield database_url, own_redis


def scheduler(database_url: str, redis_url: str, clock: Clock) -> Container:
    return bootstrap(Settings(database_url=database_url, redis_url=redis_url), clock=clock)


def file_cases(
    container: Container, clock: Clock, grid: str, category: str, moments: list[datetime]
) -> list[str]:
    """Cases filed at ``moments``; their case numbers, oldest first."""
    numbers = []
    for moment in moments:
        clock.now = moment
        complaint = Complaint(
            channel="phone", category=category, description="同一处反复投诉", urgency="normal",
            grid=grid,
        )  # fmt: skip
        case_id = container.handle(new_case_id(), complaint, OPERATOR).case_id
        [received] = [e for e in container.store.read_stream(case_id) if e.type == "CaseReceived"]
        numbers.append(str(received.data["case_no"]))
    return numbers


def detected(container: Container) -> list[dict[str, object]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(event_table.c.stream_id, event_table.c.data)
            .where(event_table.c.type == "HotspotDetected")
            .order_by(event_table.c.position)
        )
        return [{"stream": row.stream_id, **row.data} for row in rows]


def week_days(monday: date, count: int, hour: int = 9) -> list[datetime]:
    """``count`` moments spread over the week of ``monday``, Monday to Sunday."""
    return [at(monday + timedelta(days=n % 7), hour + n // 7) for n in range(count)]


def test_a_hotspot_is_raised_once_by_two_schedulers_and_after_a_restart(
    database: tuple[str, str], clock: Clock
) -> None:
    one, two = scheduler(*database, clock), scheduler(*database, clock)
    last_week = MONDAY - timedelta(days=7)
    potholes = file_cases(one, clock, "XYL-01", "road.pothole", week_days(MONDAY, 5))
    lights = file_cases(one, clock, "XYL-03", "road.streetlight", week_days(last_week, 5))
    file_cases(one, clock, "XYL-01", "road.pothole", week_days(last_week, 2))  # another week
    file_cases(one, clock, "XYL-02", "city.stall", week_days(MONDAY, 4))  # one short
    file_cases(one, clock, "CLZ-01", "water.leak", week_days(MONDAY - timedelta(days=14), 6))
    clock.now = at(MONDAY + timedelta(days=6), 20)  # Sunday evening

    counts: list[int] = []
    scans = [
        threading.Thread(target=lambda c=c: counts.append(raise_hotspots(c))) for c in (one, two)
    ]
    for scan in scans:
        scan.start()
    for scan in scans:
        scan.join()
    two.close()
    restarted = scheduler(*database, clock)
    again = timers.raise_due_warnings(restarted)["hotspots"]

    assert sum(counts) == 2, counts
    assert again == 0
    found = {(e["grid"], e["category"]): e for e in detected(restarted)}
    assert set(found) == {("XYL-01", "road.pothole"), ("XYL-03", "road.streetlight")}
    pothole = found[("XYL-01", "road.pothole")]
    assert pothole["cases"] == potholes, "the window's cases, oldest first, and no others"
    assert (pothole["window_start"], pothole["window_end"]) == ("2026-11-30", "2026-12-06")
    assert pothole["stream"] == hotspot_stream("XYL-01", "road.pothole", MONDAY)
    assert pothole["street"] == "XYL" and pothole["office"] == "xyl-office"
    light = found[("XYL-03", "road.streetlight")]
    assert light["cases"] == lights and light["window_start"] == last_week.isoformat()
    one.close()
    restarted.close()


def test_a_sixth_case_in_the_window_raises_nothing_more_and_the_next_window_starts_afresh(
    database: tuple[str, str], clock: Clock
) -> None:
    container = scheduler(*database, clock)
    file_cases(container, clock, "XYL-01", "road.pothole", week_days(MONDAY, 5))
    assert raise_hotspots(container) == 1
    file_cases(container, clock, "XYL-01", "road.pothole", [at(MONDAY + timedelta(days=6), 10)])
    assert raise_hotspots(container) == 0

    next_monday = MONDAY + timedelta(days=7)
    file_cases(container, clock, "XYL-01", "road.pothole", week_days(next_monday, 4))
    assert raise_hotspots(container) == 0, "four in the new week are not five"
    file_cases(container, clock, "XYL-01", "road.pothole", [at(next_monday + timedelta(days=5), 9)])
    assert raise_hotspots(container) == 1
    starts = [e["window_start"] for e in detected(container)]
    assert starts == [MONDAY.isoformat(), next_monday.isoformat()]
    assert window_of(next_monday, 7).start == next_monday
    container.close()


def test_no_hotspot_section_raises_nothing(tmp_path: Path, redis_url: str, clock: Clock) -> None:
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        container = scheduler(database_url, own_redis, clock)
        load_catalogue(
            container.engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="tests", now=clock()
        )
        file_cases(container, clock, "XYL-01", "road.pothole", week_days(MONDAY, 6))
        assert raise_hotspots(container) == 0
        assert detected(container) == []
        container.close()


def test_the_streets_worklist_shows_its_hotspot_and_another_streets_does_not(
    database: tuple[str, str], clock: Clock
) -> None:
    container = scheduler(*database, clock)
    potholes = file_cases(container, clock, "XYL-01", "road.pothole", week_days(MONDAY, 5))
    raise_hotspots(container)
    moment = Moment(now=clock(), today=clock().astimezone(SHANGHAI).date())

    def listed(viewer: SystemActor) -> list[dict[str, object]]:
        with container.store.reading() as conn:
            items, total = worklist_page(conn, viewer, "hotspots", at=moment)
        assert total == len(items)
        return items

    [item] = listed(XYL_OFFICER)
    assert (item["grid"], item["category"], item["count"]) == ("XYL-01", "road.pothole", 5)
    assert item["cases"] == potholes
    assert listed(CLZ_OFFICER) == []
    assert [i["grid"] for i in listed(SUPERVISOR)] == ["XYL-01"]

    catalogue = container.handling.catalogue()[1]
    with container.store.reading() as conn:
        values = grid_values(conn, XYL_OFFICER, catalogue, measure="hotspots", now=clock())
    assert {v.grid: v.value for v in values} == {"XYL-01": 1, "XYL-02": 0, "XYL-03": 0}
    container.close()
