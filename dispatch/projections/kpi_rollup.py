"""What each fact adds to the daily KPI rollup (``kpi_daily``), so any period is a sum of days.

A million cases make a month of ~100,000 task rows; summing twenty ``CASE`` columns over them
costs far more than the 100 ms a ranking page may take. So each task and case row keeps its
contribution to the counts of ``dispatch.domain.kpi_formulas.KpiCounts`` in ``kpi_daily``, one row
per
(dimension, key, local day); the projection adds the difference whenever a row changes.

Time makes one count move without an event: a step becomes *due* when its deadline passes.
The rollup counts every pending deadline as already passed (the value the task settles on);
the query subtracts the steps whose deadline is still ahead of ``now``, found among the few
task rows with ``settle_at > now`` (the open tasks of the last days). The rules are the
ones ``dispatch.queries.kpi_exact`` applies to the facts directly; a test holds them equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from dispatch.projections.kpi_tables import COUNTS

Row = dict[str, Any]
# No "day" dimension: every task and case falls in exactly one street row (key "" when the
# street is unknown) of its day, so a day's totals are the sum of that day's street rows.
DIMENSIONS = ("department", "nature", "category", "grid", "street")
CASE_DIMENSIONS = DIMENSIONS[1:]  # a case has no department of its own
RATED = ("satisfied", "basic", "unsatisfied")  # "none": no verdict given, not 参评
STEPS = (("signed_at", "sign_by"), ("contacted_at", "contact_by"), ("replied_at", "reply_by"))
Key = tuple[str, str, date]  # (dimension, key or "", local day)


def pending(task: Row, deadline: datetime) -> bool:
    """The deadline fell while the task was still the department's (not returned/cancelled)."""
    ends = (task["returned_at"], task["cancelled_at"])
    return all(end is None or deadline <= end for end in ends)


def settle_at(task: Row) -> datetime | None:
    """When the last not-yet-done step of the task becomes due, if any step still will."""
    if task["excluded_at"] is not None:
        return None
    waiting = [
        task[deadline]
        for done, deadline in STEPS
        if task[done] is None and pending(task, task[deadline])
    ]
    return max(waiting, default=None)


def task_part(task: Row) -> Row:
    """The task's own counts, every pending deadline counted as passed."""
    if task["excluded_at"] is not None:
        return {}
    signed = task["signed_at"] is not None
    contacted = task["contacted_at"] is not None
    replied = task["replied_at"] is not None
    signed_on_time = signed and task["signed_at"] <= task["sign_by"]
    rating = task["street_rating"]
    evaluated = {
        "evaluated": rating is not None,
        "street_satisfied": rating == "satisfied",
        "street_basic": rating == "basic",
        "street_unsatisfied": rating == "unsatisfied",
    }
    if task["case_parked"]:
        # 挂账: while the case is parked its tasks count in no timeliness rate, either way.
        return {"dispatched": 1, "returned": task["returned_at"] is not None, **evaluated}
    return {
        **evaluated,
        "dispatched": 1,
        "due_sign": signed or pending(task, task["sign_by"]),
        "signed_on_time": signed_on_time,
        "due_contact": contacted or pending(task, task["contact_by"]),
        "responded_on_time": signed_on_time
        and contacted
        and task["contacted_at"] <= task["contact_by"],
        "due_reply": replied or pending(task, task["reply_by"]),
        "replied_on_time": replied and task["replied_at"] <= task["reply_by"],
        "returned": task["returned_at"] is not None,
    }


def outcome(row: Row) -> Row:
    """A case's closure, reopening and last callback (on a case row or a lead task row)."""
    satisfaction = row["callback_satisfaction"]
    rated = satisfaction in RATED
    solved = row["callback_solved"] if rated else None
    return {
        "received": 1,
        "parked": bool(row["case_parked"]),  # out of 办结率's denominator while parked
        "closed": row["case_closed_at"] is not None,
        "ever_closed": row["case_first_closed_at"] is not None,
        "reopened": row["case_reopened_at"] is not None,
        "rated": rated,
        "solved": solved == "solved",
        "partly": solved == "partly",
        "unsolved": solved == "unsolved",
        "satisfied": rated and satisfaction == "satisfied",
        "basic": rated and satisfaction == "basic",
        "unsatisfied": rated and satisfaction == "unsatisfied",
    }


def owns_outcome(task: Row) -> bool:
    """Per department, the current unreturned lead task answers for its case's outcome."""
    return (
        task["excluded_at"] is None
        and task["role"] == "lead"
        and all(task[end] is None for end in ("superseded_at", "returned_at", "cancelled_at"))
    )


def task_contributions(task: Row) -> Iterator[tuple[Key, Row]]:
    """Per dimension: the task's counts; per department also its case's outcome if it owns it."""
    own = task_part(task)
    if not own:
        return
    day = task["dispatched_day"]
    department = dict(own, **outcome(task)) if owns_outcome(task) else own
    yield ("department", task["department"], day), department
    for dimension in CASE_DIMENSIONS:
        yield (dimension, task[dimension] or "", day), own


def case_contributions(case: Row) -> Iterator[tuple[Key, Row]]:
    """Per category, grid, street and day: the case's outcome, on the day it was received."""
    if case["excluded_at"] is not None or case["received_day"] is None:
        return
    counts = outcome(case)
    day = case["received_day"]
    for dimension in CASE_DIMENSIONS:
        yield (dimension, case[dimension] or "", day), counts


_COLUMN = {name: index for index, name in enumerate(COUNTS)}
_DISPATCHED, _RECEIVED = _COLUMN["dispatched"], _COLUMN["received"]


class Deltas:
    """The changes a batch makes to ``kpi_daily``: new contributions minus old ones.

    A rebuild adds millions of contributions, most of whose counts are 0 (``False``): the
    sums are kept as lists in ``COUNTS`` order and only the counts that are set are added.
    """

    def __init__(self) -> None:
        self.rows: dict[Key, list[int]] = {}

    def add(self, contributions: Iterator[tuple[Key, Row]], sign: int) -> None:
        rows, column, width = self.rows, _COLUMN, len(COUNTS)
        for key, counts in contributions:
            row = rows.get(key)
            if row is None:
                row = rows[key] = [0] * width
            for name, value in counts.items():
                if value:
                    row[column[name]] += sign * int(value)

    def shrunk(self) -> list[Key]:
        """Rows that lost a task or a case: they may now count nothing at all.

        Every count is a share of ``dispatched`` (task counts) or ``received`` (case counts),
        so a row whose two totals are 0 is empty.
        """
        return [
            key
            for key, counts in self.rows.items()
            if min(counts[_DISPATCHED], counts[_RECEIVED]) < 0
        ]

    def changed(self) -> list[tuple[Any, ...]]:
        """The rows to add to ``kpi_daily``, as values in its column order (dimension, day,
        key, counts)."""
        return [
            (dimension, day, key, *counts)
            for (dimension, key, day), counts in self.rows.items()
            if any(counts)
        ]
