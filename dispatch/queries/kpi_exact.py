"""KPI counts straight from the facts: exact for any period and any ``as_of``.

One ``GROUP BY`` with ``SUM(CASE …)`` columns per fact table, the same SQL on PostgreSQL and
SQLite. Without ``as_of`` every fact is read at its current value; with ``as_of`` each is taken
as recorded before that time — the reply deadline from the extensions approved by then, the
closure and the last callback from the case log — so a past figure can be reproduced. The
daily rollup (``dispatch.queries.kpis``) answers the common case faster; these queries are its
reference, and a test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from dispatch.projections.kpi_rollup import RATED
from dispatch.projections.kpi_tables import define_kpi_tables

_tables = define_kpi_tables(sa.MetaData())
tasks, cases = _tables["tasks"], _tables["cases"]
case_log, extensions = _tables["case_log"], _tables["extensions"]

Condition = ColumnElement[bool]


def _count(condition: Condition, label: str) -> sa.Label[Any]:
    return sa.func.count().filter(condition).label(label)


def _known(column: sa.Column[Any], as_of: datetime | None) -> Condition:
    """The moment has happened, as far as the log knew at ``as_of``."""
    if as_of is None:
        return column.is_not(None)
    return sa.and_(column.is_not(None), column < as_of)


def _not_yet(column: sa.Column[Any], as_of: datetime | None) -> Condition:
    if as_of is None:
        return column.is_(None)
    return sa.or_(column.is_(None), column >= as_of)


# -- each fact row as it stood ------------------------------------------------------------


def _reply_by(as_of: datetime | None) -> ColumnElement[Any]:
    """The reply deadline in force at ``as_of``: the last extension approved before it —
    the current one when none came since (looked up only for a task extended since)."""
    t = tasks.c
    if as_of is None:
        return t.reply_by
    extended = (
        sa.select(extensions.c.reply_by)
        .where(extensions.c.task_id == t.task_id, extensions.c.recorded_at < as_of)
        .order_by(extensions.c.position.desc())
        .limit(1)
        .correlate(tasks)
        .scalar_subquery()
    )
    return sa.case(
        (sa.or_(t.extended_at.is_(None), t.extended_at < as_of), t.reply_by),
        else_=sa.func.coalesce(extended, t.original_reply_by),
    )


def reply_deadline_as_of(as_of: datetime) -> ColumnElement[Any]:
    """A task fact's reply deadline as it stood at ``as_of`` (for the alerts)."""
    return _reply_by(as_of)


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


def _outcome(table: sa.Table, as_of: datetime | None) -> list[sa.Label[Any]]:
    """The case's closure and last callback at ``as_of`` (now: the row's current values)."""
    c = table.c
    if as_of is None:
        closed: Any = sa.case((c.case_closed_at.is_not(None), "closed"), else_=None)
        solved, satisfaction = c.callback_solved, c.callback_satisfaction
    else:
        closed = _closed(table, as_of)
        solved = _callback(table, "solved", as_of)
        satisfaction = _callback(table, "satisfaction", as_of)
    return [
        closed.label("closed_kind"),
        solved.label("solved"),
        satisfaction.label("satisfaction"),
        c.case_first_closed_at,
        c.case_reopened_at,
    ]


# Each fact at ``as_of`` from the row's dates where they settle it, so that the case log is
# read only for the few rows it changed on since (a million cases: a month's facts with one
# lookup each took a second). ``tests/integration/test_kpi_as_of.py`` holds them to the log.


def _closed(table: sa.Table, as_of: datetime) -> Any:
    """'closed' if the last closure or reopening recorded before ``as_of`` was a closure
    (a reopening without a closure before it counts as not closed, as no entry does)."""
    c = table.c
    return sa.case(
        (sa.or_(c.case_first_closed_at.is_(None), c.case_first_closed_at >= as_of), None),
        (sa.or_(c.case_reopened_at.is_(None), c.case_reopened_at >= as_of), "closed"),
        (c.case_closed_at < as_of, "closed"),  # closed now, last closed before as_of
        else_=_last_log(table, "kind", ("closed", "reopened"), as_of),
    )


def _callback(table: sa.Table, column: str, as_of: datetime) -> Any:
    """The verdict of the last callback recorded before ``as_of``."""
    c = table.c
    return sa.case(
        (sa.or_(c.first_callback_at.is_(None), c.first_callback_at >= as_of), None),
        (c.callback_at < as_of, c[f"callback_{column}"]),
        else_=_last_log(table, column, ("callback",), as_of),
    )


def _parked(table: sa.Table, as_of: datetime | None) -> sa.Label[Any]:
    """挂账 at ``as_of`` (now: the row's flag), as 1 or 0."""
    c = table.c
    if as_of is None:
        return sa.case((c.case_parked.is_(True), 1), else_=0).label("parked")
    settled = sa.or_(c.park_changed_at.is_(None), c.park_changed_at < as_of)
    return sa.case(
        (settled, sa.case((c.case_parked.is_(True), 1), else_=0)),
        (_last_log(table, "kind", ("parked", "unparked"), as_of) == "parked", 1),
        else_=0,
    ).label("parked")


def _facts(query: sa.Select[Any]) -> sa.Subquery:
    # OFFSET 0 keeps the planner from folding this select into the aggregate above it, which
    # would run each correlated ``as_of`` subquery once per reference instead of once per row.
    return query.offset(0).subquery("facts")


# -- counting -------------------------------------------------------------------------------


def _due(f: Any, done: Condition, deadline: Any, reference: datetime) -> Condition:
    """Done, or the deadline passed while the task was still the department's to do."""
    passed = sa.and_(
        deadline <= reference,
        sa.or_(f.returned_at.is_(None), deadline <= f.returned_at),
        sa.or_(f.cancelled_at.is_(None), deadline <= f.cancelled_at),
    )
    return sa.or_(done, passed)


def _task_counts(f: Any, reference: datetime, as_of: datetime | None) -> list[sa.Label[Any]]:
    signed = _known(f.signed_at, as_of)
    contacted = _known(f.contacted_at, as_of)
    replied = _known(f.replied_at, as_of)
    signed_on_time = sa.and_(signed, f.signed_at <= f.sign_by)
    live = f.parked == 0  # a parked case's tasks count in no timeliness rate

    def timely(condition: Condition, label: str) -> sa.Label[Any]:
        return _count(sa.and_(live, condition), label)

    return [
        sa.func.count().label("dispatched"),
        timely(_due(f, signed, f.sign_by, reference), "due_sign"),
        timely(signed_on_time, "signed_on_time"),
        timely(_due(f, contacted, f.contact_by, reference), "due_contact"),
        timely(
            sa.and_(signed_on_time, contacted, f.contacted_at <= f.contact_by), "responded_on_time"
        ),
        timely(_due(f, replied, f.effective_reply_by, reference), "due_reply"),
        timely(sa.and_(replied, f.replied_at <= f.effective_reply_by), "replied_on_time"),
        _count(_known(f.returned_at, as_of), "returned"),
        *_evaluation_counts(f, as_of),
    ]


def _evaluation_counts(f: Any, as_of: datetime | None) -> list[sa.Label[Any]]:
    """双考核: the summoning streets' ratings given by ``as_of``."""
    evaluated = _known(f.evaluated_at, as_of)
    return [
        _count(evaluated, "evaluated"),
        *(
            _count(sa.and_(evaluated, f.street_rating == level), f"street_{level}")
            for level in RATED
        ),
    ]


def _outcome_counts(f: Any, counted: Condition, as_of: datetime | None) -> list[sa.Label[Any]]:
    """Closure, reopening and the last callback of the rows where ``counted`` holds."""
    rated = sa.and_(counted, f.satisfaction.in_(RATED))
    columns = [
        _count(counted, "received"),
        _count(sa.and_(counted, f.parked == 1), "parked"),
        _count(sa.and_(counted, f.closed_kind == "closed"), "closed"),
        _count(sa.and_(counted, _known(f.case_first_closed_at, as_of)), "ever_closed"),
        _count(sa.and_(counted, _known(f.case_reopened_at, as_of)), "reopened"),
        _count(rated, "rated"),
    ]
    columns += [
        _count(sa.and_(rated, f.solved == level), level)
        for level in ("solved", "partly", "unsolved")
    ]
    columns += [_count(sa.and_(rated, f.satisfaction == level), level) for level in RATED]
    return columns


def _owner(f: Any, as_of: datetime | None) -> Condition:
    """The task that answers for its case's outcome: the current, unreturned lead."""
    return sa.and_(
        f.role == "lead",
        _not_yet(f.superseded_at, as_of),
        _not_yet(f.returned_at, as_of),
        _not_yet(f.cancelled_at, as_of),
    )


# -- the queries, one per fact table ------------------------------------------------------


def _task_query(
    group_by: str, start: datetime, end: datetime, reference: datetime, as_of: datetime | None
) -> sa.Select[Any]:
    t = tasks.c
    key = t.dispatched_day if group_by == "day" else t[group_by]
    where = [t.dispatched_at >= start, t.dispatched_at < end, _not_yet(t.excluded_at, as_of)]
    if as_of is not None:
        where.append(t.dispatched_at < as_of)
    per_row = [
        key.label("key"),
        *(t[name] for name in ("signed_at", "sign_by", "contacted_at", "contact_by")),
        *(t[name] for name in ("replied_at", "returned_at", "cancelled_at")),
        t.street_rating,
        t.evaluated_at,
        _reply_by(as_of).label("effective_reply_by"),
        _parked(tasks, as_of),
    ]
    department = group_by == "department"
    if department:
        # Once per row here, not in each of the dozen outcome counts that ask.
        owner = sa.case((_owner(t, as_of), 1), else_=0).label("owner")
        per_row += [*_outcome(tasks, as_of), owner]
    f = _facts(sa.select(*per_row).where(*where)).c
    counts = _task_counts(f, reference, as_of)
    if department:
        counts += _outcome_counts(f, f.owner == 1, as_of)
    return sa.select(f.key, *counts).group_by(f.key)


def _case_query(
    group_by: str, start: datetime, end: datetime, as_of: datetime | None
) -> sa.Select[Any]:
    c = cases.c
    key = c.received_day if group_by == "day" else c[group_by]
    where = [c.received_at >= start, c.received_at < end, _not_yet(c.excluded_at, as_of)]
    if as_of is not None:
        where.append(c.recorded_at < as_of)
    f = _facts(
        sa.select(key.label("key"), *_outcome(cases, as_of), _parked(cases, as_of)).where(*where)
    ).c
    return sa.select(f.key, *_outcome_counts(f, sa.true(), as_of)).group_by(f.key)


@contextmanager
def without_jit(conn: Connection) -> Iterator[None]:
    """Run these queries uncompiled: PostgreSQL's planner prices every row's case-log
    lookup as if it ran, crosses the JIT thresholds, and compiling alone took 90 ms at
    100,000 cases, more at a million, than the whole query takes without it. A failed query
    leaves JIT off on that connection, which only spares a later query its compilation."""
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql("SET jit = off")
    yield
    conn.exec_driver_sql("RESET jit")


def fact_queries(
    group_by: str, start: datetime, end: datetime, reference: datetime, as_of: datetime | None
) -> list[sa.Select[Any]]:
    """The queries whose rows, merged by ``key``, are the counts of
    ``dispatch.domain.kpi_formulas``.

    Per department the case outcomes come from the lead task rows (one scan); per category,
    grid, street or day the tasks and the cases are summed separately.
    """
    queries = [_task_query(group_by, start, end, reference, as_of)]
    if group_by != "department":
        queries.append(_case_query(group_by, start, end, as_of))
    return queries
