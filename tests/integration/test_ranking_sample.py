"""红黑榜 with a minimum sample: a department with one task done in time must not top the board.

``steady`` has three tasks due (one partly solved), ``lucky`` one perfect task. Ranked on
their scores alone, ``lucky`` (100) beats ``steady``; with a minimum of three tasks due for
signing, ``lucky`` is listed unranked as 样本不足 and ``steady`` is ranked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.kpi import KpiProjection
from dispatch.queries.kpis import ranking
from events import EventStore

from worlds.case_story import HOUR, MINUTE, CaseStory

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def board_of(engine: Engine, unique: str) -> object:
    number = int(unique, 16)
    day = datetime(2060 + number % 30, 1 + number // 30 % 12, 2, 9, 0, tzinfo=BEIJING)
    store = EventStore(engine)
    steady, lucky = f"steady-{unique}", f"lucky-{unique}"

    def handled(department: str, at: datetime, solved: str, satisfaction: str) -> None:
        story = CaseStory(store, category=f"cat-{unique}").received(at)
        task = story.dispatched(at + MINUTE, department)
        story.signed(at + HOUR, task)
        story.contacted(at + 2 * HOUR, task)
        story.replied(at + 20 * HOUR, task)
        story.callback(at + 21 * HOUR, solved, satisfaction)
        story.closed(at + 22 * HOUR)

    handled(steady, day, "solved", "satisfied")
    handled(steady, day + HOUR, "partly", "basic")
    handled(steady, day + 2 * HOUR, "solved", "satisfied")
    handled(lucky, day + 3 * HOUR, "solved", "satisfied")
    runner = ProjectionRunner(engine, [KpiProjection()])
    runner.ensure_tables()
    runner.catch_up("kpi")
    period = (day - timedelta(days=1), day + timedelta(days=20))

    def board(min_due: int) -> list[dict[str, object]]:
        with engine.connect() as conn:
            found = ranking(
                conn, "", day + timedelta(days=10), size=100, min_due=min_due, period=period
            )
        return [row for row in found["rows"] if row["key"] in (steady, lucky)]

    board.steady, board.lucky = steady, lucky  # type: ignore[attr-defined]
    return board


def test_without_a_minimum_one_perfect_task_tops_the_board(board_of) -> None:
    rows = board_of(0)
    assert [row["key"] for row in rows] == [board_of.lucky, board_of.steady]
    assert rows[0]["score"] == pytest.approx(100.0)
    assert not any(row["too_few"] for row in rows)


def test_a_department_below_the_minimum_is_shown_unranked_as_too_few(board_of) -> None:
    rows = {row["key"]: row for row in board_of(3)}
    lucky, steady = rows[board_of.lucky], rows[board_of.steady]
    assert lucky["too_few"] is True and lucky["rank"] is None
    assert lucky["score"] == pytest.approx(100.0)  # the score is still shown, just not ranked
    assert steady["too_few"] is False and steady["rank"] is not None


def test_the_minimum_counts_tasks_due_for_signing(board_of) -> None:
    rows = {row["key"]: row for row in board_of(4)}
    assert rows[board_of.steady]["too_few"] is True  # three due, four needed
    assert rows[board_of.steady]["counts"]["due_sign"] == 3
