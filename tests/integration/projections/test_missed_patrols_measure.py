"""The grid map's ``missed_patrols`` measure (漏巡, DESIGN.md §8.7) matches a hand count of the
patrol ledger: rounds raised as missed and still unreported, due in the last 7 days, per grid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from test_grid_map import SUPERVISOR, Viewer, catalogue_of

from dispatch.catalogue import Catalogue
from dispatch.domain import events as ev
from dispatch.domain.patrol import patrol_stream
from dispatch.projections import ProjectionRunner
from dispatch.projections.patrol_reports import PatrolReportsProjection
from dispatch.queries.grid_map import MEASURES, grid_values

from worlds.projection_story import Story

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TODAY = date(2026, 6, 10)


def due(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def ledger(story: Callable[[str], Story], engine: Engine, unique: str) -> Catalogue:
    """By hand: A missed 早巡 and 午巡 yesterday (2), 晚巡 yesterday but reported it late, and
    早巡 eight days ago (outside the week); B reported zero on time; D (another street) missed
    one round two days ago."""
    street, other = f"S{unique}", f"T{unique}"
    yesterday, long_ago = TODAY - timedelta(days=1), TODAY - timedelta(days=8)

    def missed(grid: str, at_street: str, day: date, round_: str, hour: int) -> Story:
        stream = story(patrol_stream(f"{grid}{unique}", day))
        return stream.then(
            ev.PatrolReportMissed(
                grid=f"{grid}{unique}",
                street=at_street,
                date=day,
                round=round_,
                due_at=due(day, hour),
            ),
            role="system",
        )

    def reported(grid: str, day: date, round_: str, hour: int) -> ev.PatrolReported:
        return ev.PatrolReported(
            report_id=f"r-{grid}-{round_}-{unique}",
            grid=f"{grid}{unique}",
            street=street,
            date=day,
            round=round_,
            due_at=due(day, hour),
            zero=True,
            findings=[],
            by="grid-worker",
        )

    a_yesterday = missed("A", street, yesterday, "早巡", 2)
    a_yesterday.then(
        ev.PatrolReportMissed(
            grid=f"A{unique}", street=street, date=yesterday, round="午巡", due_at=due(yesterday, 7)
        ),
        role="system",
    )
    a_yesterday.then(
        ev.PatrolReportMissed(
            grid=f"A{unique}",
            street=street,
            date=yesterday,
            round="晚巡",
            due_at=due(yesterday, 13),
        ),
        role="system",
    )
    a_yesterday.then(reported("A", yesterday, "晚巡", 13), role="grid")
    missed("A", street, long_ago, "早巡", 2)
    story(patrol_stream(f"B{unique}", yesterday)).then(
        reported("B", yesterday, "早巡", 2), role="grid"
    )
    missed("D", other, TODAY - timedelta(days=2), "早巡", 2)
    runner = ProjectionRunner(engine, [PatrolReportsProjection()])
    runner.ensure_tables()
    runner.catch_up()
    return catalogue_of(unique)


def counted(engine: Engine, viewer: Viewer, catalogue: Catalogue) -> dict[str, int]:
    with engine.connect() as conn:
        found = grid_values(conn, viewer, catalogue, measure="missed_patrols", now=NOW)
    return {item.grid: item.value for item in found}


def test_missed_patrols_per_grid_count_the_weeks_unreported_missed_rounds(
    engine: Engine, ledger: Catalogue, unique: str
) -> None:
    assert counted(engine, SUPERVISOR, ledger) == {
        f"A{unique}": 2,
        f"B{unique}": 0,
        f"C{unique}": 0,
        f"D{unique}": 1,
    }


def test_a_street_officer_counts_its_own_grids_missed_rounds_only(
    engine: Engine, ledger: Catalogue, unique: str
) -> None:
    officer = Viewer(frozenset({"street"}), street=f"S{unique}")
    assert counted(engine, officer, ledger) == {f"A{unique}": 2, f"B{unique}": 0, f"C{unique}": 0}


def test_the_measure_reads_the_patrol_ledger() -> None:
    assert MEASURES["missed_patrols"].projections == ("patrol_reports",)
