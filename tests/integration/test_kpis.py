"""Hand-computed KPI fixtures: a few cases with known timings → exact rates per department.

Every deadline below is relative to its dispatch: sign 2 h, contact 4 h, reply 48 h. D is
Monday 3 November 2036, 09:00 in Beijing; "now" is ten days later. (Years ahead, so that
these open tasks never show among the real clock's overdue alerts of other tests.)

Department A                               Department B
A1 all on time; solved, satisfied; closed   B1 took A5 over (hop 2); all on time; callback
A2 signed 1 h late, replied 2 h late;          unsolved/unsatisfied, then solved/basic; closed
   partly solved, basic; closed             B2 contacted late; extension, replied in time;
A3 dispatched an hour before now: inside       callback with no satisfaction verdict; open
   every limit, counts for nothing          B3 all on time; solved, satisfied; closed, reopened
A4 never signed, then merged: excluded
A5 signed, then returned to the centre
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.kpi import KpiProjection
from dispatch.queries.kpis import kpi_rows, ranking
from events import EventStore

from worlds.case_story import HOUR, MINUTE, CaseStory

BEIJING = ZoneInfo("Asia/Shanghai")
D = datetime(2036, 11, 3, 9, 0, tzinfo=BEIJING)
NOW = datetime(2036, 11, 13, 9, 0, tzinfo=BEIJING)
NOVEMBER = (datetime(2036, 11, 1, tzinfo=BEIJING), datetime(2036, 12, 1, tzinfo=BEIJING))


@pytest.fixture
def codes(unique: str) -> dict[str, str]:
    return {"a": f"a-{unique}", "b": f"b-{unique}", "category": f"cat-{unique}"}


@pytest.fixture
def history(engine: Engine, codes: dict[str, str]) -> ProjectionRunner:
    store = EventStore(engine)
    a, b, category = codes["a"], codes["b"], codes["category"]

    def story() -> CaseStory:
        return CaseStory(store, category=category, grid=f"grid-{category}")

    a1 = story().received(D)
    t = a1.dispatched(D + MINUTE, a)
    a1.signed(D + HOUR, t)
    a1.contacted(D + 2 * HOUR, t)
    a1.replied(D + 24 * HOUR, t)
    a1.callback(D + 30 * HOUR, "solved", "satisfied")
    a1.closed(D + 31 * HOUR)

    a2 = story().received(D + 10 * MINUTE)
    t = a2.dispatched(D + 11 * MINUTE, a)
    a2.signed(D + 3 * HOUR + 11 * MINUTE, t)
    a2.contacted(D + 3 * HOUR + 30 * MINUTE, t)
    a2.replied(D + 50 * HOUR + 11 * MINUTE, t)
    a2.callback(D + 52 * HOUR, "partly", "basic")
    a2.closed(D + 53 * HOUR)

    a3 = story().received(NOW - HOUR)
    a3.dispatched(NOW - HOUR, a)

    a4 = story().received(D + 20 * MINUTE)
    a4.dispatched(D + 21 * MINUTE, a)
    a4.merged(D + 5 * HOUR, into=a1.case_id)

    a5 = story().received(D + 30 * MINUTE)
    t = a5.dispatched(D + 31 * MINUTE, a)
    a5.signed(D + 40 * MINUTE, t)
    a5.return_requested(D + HOUR, t)
    a5.return_approved(D + HOUR + 31 * MINUTE, t)
    t = a5.dispatched(D + HOUR + 32 * MINUTE, b)
    a5.signed(D + 2 * HOUR, t)
    a5.contacted(D + 3 * HOUR, t)
    a5.replied(D + 20 * HOUR, t)
    a5.callback(D + 21 * HOUR, "unsolved", "unsatisfied")
    a5.callback(D + 26 * HOUR, "solved", "basic")
    a5.closed(D + 27 * HOUR)

    b2 = story().received(D + 40 * MINUTE)
    t = b2.dispatched(D + 41 * MINUTE, b)
    b2.signed(D + HOUR, t)
    b2.contacted(D + 5 * HOUR, t)
    b2.extension_approved(D + 40 * HOUR, t, reply_by=D + 96 * HOUR + 41 * MINUTE)
    b2.replied(D + 70 * HOUR, t)
    b2.callback(D + 72 * HOUR, "solved", "none")

    b3 = story().received(D + 50 * MINUTE)
    t = b3.dispatched(D + 51 * MINUTE, b)
    b3.signed(D + HOUR, t)
    b3.contacted(D + 2 * HOUR, t)
    b3.replied(D + 10 * HOUR, t)
    b3.callback(D + 11 * HOUR, "solved", "satisfied")
    b3.closed(D + 12 * HOUR)
    b3.reopened(D + 30 * HOUR)

    runner = ProjectionRunner(engine, [KpiProjection()])
    runner.ensure_tables()
    runner.catch_up("kpi")
    return runner


def rows_by_key(engine: Engine, group_by: str, **options: object) -> dict[object, dict]:
    with engine.connect() as conn:
        rows = kpi_rows(conn, group_by=group_by, start=NOVEMBER[0], end=NOVEMBER[1], **options)
    return {row["key"]: row for row in rows}


def test_department_rates_match_the_hand_count(history, engine, codes) -> None:
    rows = rows_by_key(engine, "department", now=NOW)
    a, b = rows[codes["a"]], rows[codes["b"]]

    assert a["dispatched"] == 4  # A1, A2, A3, A5; the merged A4 is left out
    assert a["sign_rate"] == pytest.approx(2 / 3)  # A3 is not due yet
    assert a["response_rate"] == pytest.approx(1 / 2)  # A5 was returned before contact_by
    assert a["on_time_rate"] == pytest.approx(1 / 2)
    assert a["closure_rate"] == pytest.approx(2 / 3)  # A1, A2 of the cases A leads: A1–A3
    assert a["solve_rate"] == pytest.approx(0.75)  # (1 + ½) / 2
    assert a["satisfaction_rate"] == pytest.approx(1.0)
    assert a["return_rate"] == pytest.approx(1 / 4)
    assert a["reopen_rate"] == 0
    assert a["score"] == pytest.approx(30 * 0.5 + 35 * 0.75 + 35 * 1.0)
    assert (a["signed_on_time"], a["responded_on_time"], a["replied_on_time"]) == (2, 1, 1)
    assert (a["closed"], a["rated"]) == (2, 2)

    assert b["dispatched"] == 3
    assert b["sign_rate"] == 1
    assert b["response_rate"] == pytest.approx(2 / 3)  # B2 contacted late
    assert b["on_time_rate"] == 1  # B2 replied within its extension
    assert b["closure_rate"] == pytest.approx(1 / 3)  # B3 was reopened
    assert b["rated"] == 2  # B2's callback gave no satisfaction verdict
    assert b["solve_rate"] == 1  # A5's last callback counts: solved
    assert b["satisfaction_rate"] == 1
    assert b["return_rate"] == 0
    assert b["reopen_rate"] == pytest.approx(1 / 2)
    assert b["score"] == pytest.approx(30 * 2 / 3 + 35 + 35)


def test_as_of_answers_with_what_was_recorded_by_then(history, engine, codes) -> None:
    rows = rows_by_key(engine, "department", now=NOW, as_of=D + 25 * HOUR)
    a, b = rows[codes["a"]], rows[codes["b"]]

    assert a["dispatched"] == 3  # A3 was not dispatched yet; A4 was already merged
    assert a["sign_rate"] == pytest.approx(2 / 3)
    assert a["response_rate"] == pytest.approx(1 / 2)
    assert a["on_time_rate"] == 1  # only A1 was due for reply by then
    assert a["closure_rate"] == 0
    assert (a["solve_rate"], a["satisfaction_rate"], a["reopen_rate"]) == (None, None, None)
    assert a["score"] == pytest.approx(50.0)  # only the response rate is defined

    assert b["response_rate"] == pytest.approx(2 / 3)
    assert b["on_time_rate"] == 1  # B2's original reply_by had not passed
    assert b["closure_rate"] == pytest.approx(1 / 3)  # B3 closed, not yet reopened
    assert b["reopen_rate"] == 0
    assert b["solve_rate"] == pytest.approx(0.5)  # A5's first callback: unsolved
    assert b["satisfaction_rate"] == pytest.approx(0.5)
    assert b["score"] == pytest.approx(20 + 17.5 + 17.5)


def test_the_same_period_asked_twice_gives_the_same_answer(history, engine) -> None:
    first = rows_by_key(engine, "department", now=NOW, as_of=D + 25 * HOUR)
    history.catch_up("kpi")
    assert rows_by_key(engine, "department", now=NOW + 30 * HOUR, as_of=D + 25 * HOUR) == first


def test_category_rows_count_cases_by_when_they_were_received(history, engine, codes) -> None:
    row = rows_by_key(engine, "category", now=NOW)[codes["category"]]

    assert row["dispatched"] == 7
    assert row["counts"]["received"] == 6  # the merged case is left out
    assert row["closure_rate"] == pytest.approx(3 / 6)
    assert row["solve_rate"] == pytest.approx(3.5 / 4)
    assert row["satisfaction_rate"] == 1
    assert row["reopen_rate"] == pytest.approx(1 / 4)
    assert row["sign_rate"] == pytest.approx(5 / 6)
    assert row["response_rate"] == pytest.approx(3 / 5)
    assert row["on_time_rate"] == pytest.approx(4 / 5)
    assert row["return_rate"] == pytest.approx(1 / 7)


def test_day_rows_split_the_period_by_local_dispatch_day(history, engine, codes) -> None:
    grid = f"grid-{codes['category']}"
    by_grid = rows_by_key(engine, "grid", now=NOW)[grid]
    with engine.connect() as conn:
        days = kpi_rows(conn, group_by="day", start=D - HOUR, end=D + 3 * 24 * HOUR, now=NOW)
    assert by_grid["dispatched"] == 7
    assert {row["key"] for row in days} >= {"2036-11-03"}


def test_ranking_puts_the_best_score_first(history, engine, codes) -> None:
    with engine.connect() as conn:
        board = ranking(conn, "2036-11", NOW, size=100)
    ranked = [row["key"] for row in board["rows"] if row["key"] in (codes["a"], codes["b"])]
    assert ranked == [codes["b"], codes["a"]]
    assert board["top"][0]["rank"] == 1


def test_a_batch_applied_twice_changes_nothing(history, engine, codes) -> None:
    before = rows_by_key(engine, "department", now=NOW)
    projection = history.projection("kpi")
    store = EventStore(engine)
    with engine.begin() as conn:
        projection.apply(conn, history.tables("kpi"), store.read_all(limit=100_000, conn=conn))
    assert rows_by_key(engine, "department", now=NOW) == before
    assert before[codes["a"]]["dispatched"] == 4


def test_a_period_before_any_case_has_no_rows(history, engine, codes) -> None:
    with engine.connect() as conn:
        rows = kpi_rows(conn, group_by="department", start=D - 48 * HOUR, end=D, now=NOW)
    assert codes["a"] not in {row["key"] for row in rows}


def test_naive_times_are_refused(engine) -> None:
    with engine.connect() as conn, pytest.raises(ValueError, match="timezone-aware"):
        kpi_rows(conn, group_by="day", start=datetime(2036, 11, 1), end=D, now=NOW)
