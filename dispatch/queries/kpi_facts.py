"""KPI counts straight from the facts: exact for any period and any ``as_of``.

One ``GROUP BY`` with ``SUM(CASE …)`` columns per fact table, the same SQL on PostgreSQL and
SQLite. Without ``as_of`` every fact is read at its current value; with ``as_of`` each is taken
as recorded before that time — the reply deadline from the extensions approved by then, the
closure and the last callback from the case log — so a past figure can be reproduced. The
daily rollup (``dispatch.queries.kpis``) answers the common case faster; these queries are its
reference, and a test holds the two equal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from dispatch.projections.kpi_rollup import RATED
from dispatch.projections.kpi_tables import define_kpi_tables

_tables = define_kpi_tables(sa.MetaData())
tasks, cases = _tables["tasks"], _tables["cases"]
case_log, extensions = _tables["case_log"], _tables["extensions"]

Condition = ColumnElement[bool]


def _count(condition: Condition, label: str) -> sa.Label[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0)).label(label)


def _known(column: sa.Column[Any], as_of: datetime | None) -> Condition:
    """The moment has happened, as far as the log knew at ``as_of``."""
    if as_of is None:
        return column.is_not(None)
    return sa.and_(column.is_not(None), column < as_of)


def _not_yet(column: sa.Column[Any], as_of: datetime | None) -> Condition:
    if as_of is None:
        return column.is_(None)
    return sa.or_(column.is_(None), column >= as_of)


# -- task facts -----------------------------------------------------------------------------


def _reply_by(as_of: datetime | None) -> ColumnElement[Any]:
    """The reply deadline in force at ``as_of``: the last extension approved before it."""
    if as_of is None:
        return tasks.c.reply_by
    extended = (
        sa.select(extensions.c.reply_by)
        .where(extensions.c.task_id == tasks.c.task_id, extensions.c.recorded_at < as_of)
        .order_by(extensions.c.position.desc())
        .limit(1)
        .correlate(tasks)
        .scalar_subquery()
    )
    return sa.func.coalesce(extended, tasks.c.original_reply_by)


def _due(done: Condition, deadline: ColumnElement[Any], reference: datetime) -> Condition:
    """Done, or the deadline passed while the task was still the department's to do."""
    passed = sa.and_(
        deadline <= reference,
        sa.or_(tasks.c.returned_at.is_(None), deadline <= tasks.c.returned_at),
        sa.or_(tasks.c.cancelled_at.is_(None), deadline <= tasks.c.cancelled_at),
    )
    return sa.or_(done, passed)


def _task_columns(reference: datetime, as_of: datetime | None) -> list[sa.Label[Any]]:
    t = tasks.c
    reply_by = _reply_by(as_of)
    signed = _known(t.signed_at, as_of)
    contacted = _known(t.contacted_at, as_of)
    replied = _known(t.replied_at, as_of)
    signed_on_time = sa.and_(signed, t.signed_at <= t.sign_by)
    return [
        sa.func.count().label("dispatched"),
        _count(_due(signed, t.sign_by, reference), "due_sign"),
        _count(signed_on_time, "signed_on_time"),
        _count(_due(contacted, t.contact_by, reference), "due_contact"),
        _count(
            sa.and_(signed_on_time, contacted, t.contacted_at <= t.contact_by), "responded_on_time"
        ),
        _count(_due(replied, reply_by, reference), "due_reply"),
        _count(sa.and_(replied, t.replied_at <= reply_by), "replied_on_time"),
        _count(_known(t.returned_at, as_of), "returned"),
    ]


# -- case outcomes (on case rows, or copied onto the lead task rows) --------------------------


def _last_log(table: sa.Table, column: str, kinds: tuple[str, ...], as_of: datetime) -> Any:
    return (
        sa.select(case_log.c[column])
        .where(
            case_log.c.case_id == table.c.case_id,
            case_log.c.kind.in_(kinds),
            case_log.c.recorded_at < as_of,
        )
        .order_by(case_log.c.position.desc())
        .limit(1)
        .correlate(table)
        .scalar_subquery()
    )


def _outcome_columns(
    table: sa.Table, counted: Condition, as_of: datetime | None
) -> list[sa.Label[Any]]:
    """Closure, reopening and the last callback of the rows where ``counted`` holds."""
    c = table.c
    if as_of is None:
        closed: Condition = c.case_closed_at.is_not(None)
        solved, satisfaction = c.callback_solved, c.callback_satisfaction
    else:
        closed = _last_log(table, "kind", ("closed", "reopened"), as_of) == "closed"
        solved = _last_log(table, "solved", ("callback",), as_of)
        satisfaction = _last_log(table, "satisfaction", ("callback",), as_of)
    rated = sa.and_(counted, satisfaction.in_(RATED))
    columns = [
        _count(counted, "received"),
        _count(sa.and_(counted, closed), "closed"),
        _count(sa.and_(counted, _known(c.case_first_closed_at, as_of)), "ever_closed"),
        _count(sa.and_(counted, _known(c.case_reopened_at, as_of)), "reopened"),
        _count(rated, "rated"),
    ]
    columns += [_count(sa.and_(rated, solved == level), level) for level in ("solved", "partly")]
    columns.append(_count(sa.and_(rated, solved == "unsolved"), "unsolved"))
    columns += [_count(sa.and_(rated, satisfaction == level), level) for level in RATED]
    return columns


def _owner(as_of: datetime | None) -> Condition:
    """The task that answers for its case's outcome: the current, unreturned lead."""
    t = tasks.c
    return sa.and_(
        t.role == "lead",
        _not_yet(t.superseded_at, as_of),
        _not_yet(t.returned_at, as_of),
        _not_yet(t.cancelled_at, as_of),
    )


# -- the queries, one per fact table ------------------------------------------------------


def _task_query(
    group_by: str, start: datetime, end: datetime, reference: datetime, as_of: datetime | None
) -> sa.Select[Any]:
    key = tasks.c.dispatched_day if group_by == "day" else tasks.c[group_by]
    columns = _task_columns(reference, as_of)
    if group_by == "department":
        columns += _outcome_columns(tasks, _owner(as_of), as_of)
    where = [tasks.c.dispatched_at >= start, tasks.c.dispatched_at < end]
    where.append(_not_yet(tasks.c.excluded_at, as_of))
    if as_of is not None:
        where.append(tasks.c.dispatched_at < as_of)
    return sa.select(key.label("key"), *columns).where(*where).group_by(key)


def _case_query(
    group_by: str, start: datetime, end: datetime, as_of: datetime | None
) -> sa.Select[Any]:
    key = cases.c.received_day if group_by == "day" else cases.c[group_by]
    where = [cases.c.received_at >= start, cases.c.received_at < end]
    where.append(_not_yet(cases.c.excluded_at, as_of))
    if as_of is not None:
        where.append(cases.c.recorded_at < as_of)
    columns = _outcome_columns(cases, sa.true(), as_of)
    return sa.select(key.label("key"), *columns).where(*where).group_by(key)


def fact_queries(
    group_by: str, start: datetime, end: datetime, reference: datetime, as_of: datetime | None
) -> list[sa.Select[Any]]:
    """The queries whose rows, merged by ``key``, are the counts of ``dispatch.kpis``.

    Per department the case outcomes come from the lead task rows (one scan); per category,
    grid, street or day the tasks and the cases are summed separately.
    """
    queries = [_task_query(group_by, start, end, reference, as_of)]
    if group_by != "department":
        queries.append(_case_query(group_by, start, end, as_of))
    return queries
