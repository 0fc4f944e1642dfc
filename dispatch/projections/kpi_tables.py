"""The KPI fact tables: one row per task, one per case, and the dated logs ``as_of`` reads.

Sized for a million cases: the KPI query sums the daily rollup ``kpi_daily`` (a few thousand
rows a month) and corrects it from the few open task rows whose deadlines are still ahead.
The task rows carry everything a rate needs, including their case's outcome (closure, last
callback, reopening) copied from the case row, so an exact query over the facts needs no join.
Every fact carries the time it was recorded, which is how ``as_of`` answers "what did we know
then": the current values serve the fast path, the logs serve the past.
"""

from __future__ import annotations

from dataclasses import fields

import sqlalchemy as sa

from dispatch.domain.kpi_formulas import KpiCounts
from events.types import UtcDateTime

Moment = UtcDateTime()
Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COUNTS: tuple[str, ...] = tuple(f.name for f in fields(KpiCounts))
# Still the department's to do, in a still-running case (``dispatch.queries.alerts``).
OPEN_TASK = (
    "replied_at IS NULL AND returned_at IS NULL AND cancelled_at IS NULL"
    " AND excluded_at IS NULL AND case_closed_at IS NULL"
)


def define_kpi_tables(metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
    tasks = sa.Table(
        f"kpi_tasks{suffix}",
        metadata,
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(64), nullable=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("hop", sa.Integer, nullable=True),  # 1, 2, … for lead tasks
        sa.Column("nature", sa.String(16), nullable=True),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("grid", sa.String(64), nullable=True),
        sa.Column("street", sa.String(64), nullable=True),
        sa.Column("dispatched_at", Moment, nullable=False),
        sa.Column("dispatched_day", sa.Date, nullable=False),
        sa.Column("warn_at", sa.Float, nullable=False),
        sa.Column("sign_by", Moment, nullable=False),
        sa.Column("sign_warn_at", Moment, nullable=False),
        sa.Column("signed_at", Moment, nullable=True),
        sa.Column("contact_by", Moment, nullable=False),
        sa.Column("contact_warn_at", Moment, nullable=False),
        sa.Column("contacted_at", Moment, nullable=True),
        sa.Column("original_reply_by", Moment, nullable=False),
        sa.Column("reply_by", Moment, nullable=False),  # after approved extensions
        sa.Column("reply_warn_at", Moment, nullable=False),
        sa.Column("replied_at", Moment, nullable=True),
        sa.Column("returned_at", Moment, nullable=True),
        sa.Column("cancelled_at", Moment, nullable=True),
        # When the last extension was approved: before an ``as_of``, ``reply_by`` is the
        # deadline it had then, without a look into ``kpi_extensions``.
        sa.Column("extended_at", Moment, nullable=True),
        # 双考核: the summoning street's rating of a summoned task, and when it was given.
        sa.Column("street_rating", sa.String(16), nullable=True),
        sa.Column("evaluated_at", Moment, nullable=True),
        # A later lead task of the same case took over: this one no longer owns the outcome.
        sa.Column("superseded_at", Moment, nullable=True),
        # Copied from the case row whenever it changes (see ``CASE_OUTCOME``).
        sa.Column("excluded_at", Moment, nullable=True),
        sa.Column("case_closed_at", Moment, nullable=True),
        sa.Column("case_first_closed_at", Moment, nullable=True),
        sa.Column("case_reopened_at", Moment, nullable=True),
        sa.Column("case_parked", sa.Boolean, nullable=False),
        sa.Column("callback_solved", sa.String(16), nullable=True),
        sa.Column("callback_satisfaction", sa.String(16), nullable=True),
        *_dated_outcome(),
        # When the last undone step becomes due (see ``kpi_rollup``); null once none will.
        sa.Column("settle_at", Moment, nullable=True),
        sa.Index(f"ix_kpi_tasks_dispatched{suffix}", "dispatched_at"),
        # The few open rows whose deadlines lie ahead of now, of the period's days.
        sa.Index(f"ix_kpi_tasks_settle{suffix}", "settle_at", "dispatched_at"),
        sa.Index(f"ix_kpi_tasks_case{suffix}", "case_id"),
        # The overdue alerts read only open tasks: a small partial index at any log size.
        sa.Index(
            f"ix_kpi_tasks_open{suffix}",
            "department",
            postgresql_where=sa.text(OPEN_TASK),
            sqlite_where=sa.text(OPEN_TASK),
        ),
    )
    cases = sa.Table(
        f"kpi_cases{suffix}",
        metadata,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("case_no", sa.String(64), nullable=True),
        sa.Column("nature", sa.String(16), nullable=True),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("grid", sa.String(64), nullable=True),
        sa.Column("street", sa.String(64), nullable=True),
        sa.Column("received_at", Moment, nullable=True),
        sa.Column("received_day", sa.Date, nullable=True),
        sa.Column("recorded_at", Moment, nullable=True),
        sa.Column("hops", sa.Integer, nullable=False),
        sa.Column("lead_department", sa.String(64), nullable=True),
        sa.Column("excluded_at", Moment, nullable=True),
        sa.Column("case_closed_at", Moment, nullable=True),
        sa.Column("case_first_closed_at", Moment, nullable=True),
        sa.Column("case_reopened_at", Moment, nullable=True),
        sa.Column("reopen_count", sa.Integer, nullable=False),
        sa.Column("case_parked", sa.Boolean, nullable=False),
        sa.Column("callback_solved", sa.String(16), nullable=True),
        sa.Column("callback_satisfaction", sa.String(16), nullable=True),
        *_dated_outcome(),
        # The last event folded into this case: a batch applied twice changes nothing.
        sa.Column("last_position", Position, nullable=False),
        sa.Index(f"ix_kpi_cases_received{suffix}", "received_at"),
    )
    # Closures, reopenings and callbacks in log order: the case as it stood at ``as_of``.
    case_log = sa.Table(
        f"kpi_case_log{suffix}",
        metadata,
        sa.Column("position", Position, primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        # closed | reopened | callback | parked | unparked
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recorded_at", Moment, nullable=False),
        sa.Column("solved", sa.String(16), nullable=True),
        sa.Column("satisfaction", sa.String(16), nullable=True),
        sa.Index(f"ix_kpi_case_log_case{suffix}", "case_id", "position"),
    )
    # Approved extensions: the reply deadline a task had at ``as_of``.
    extensions = sa.Table(
        f"kpi_extensions{suffix}",
        metadata,
        sa.Column("position", Position, primary_key=True, autoincrement=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("recorded_at", Moment, nullable=False),
        sa.Column("reply_by", Moment, nullable=False),
        sa.Index(f"ix_kpi_extensions_task{suffix}", "task_id", "position"),
    )
    # Per (dimension, key, local day): the sums of ``dispatch.domain.kpi_formulas.KpiCounts`` (see
    # ``kpi_rollup``). ``key`` is "" for an unknown grid or street.
    daily = sa.Table(
        f"kpi_daily{suffix}",
        metadata,
        sa.Column("dimension", sa.String(16), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        *(sa.Column(name, sa.Integer, nullable=False) for name in COUNTS),
    )
    # The KPI query reads a period's days of one dimension from this index alone (an
    # index-only scan): the rows themselves lie scattered, each rewritten by every batch
    # that touched its day. PostgreSQL only; SQLite's primary key serves it there.
    sa.Index(
        f"ix_kpi_daily_counts{suffix}",
        daily.c.dimension,
        daily.c.day,
        daily.c.key,
        postgresql_include=list(COUNTS),
    ).ddl_if(dialect="postgresql")
    return {
        "tasks": tasks,
        "cases": cases,
        "case_log": case_log,
        "extensions": extensions,
        "daily": daily,
    }


def _dated_outcome() -> list[sa.Column[object]]:
    """When the callbacks and the parking last changed: an ``as_of`` after those times
    reads the current values, and only a row changed since looks into ``kpi_case_log``
    (``dispatch.queries.kpi_exact``)."""
    return [
        sa.Column("first_callback_at", Moment, nullable=True),
        sa.Column("callback_at", Moment, nullable=True),  # the last one's
        sa.Column("park_changed_at", Moment, nullable=True),  # the last park or unpark
    ]


# The case's outcome, kept on the case row and copied onto each of its task rows.
CASE_OUTCOME = (
    "excluded_at",
    "case_closed_at",
    "case_first_closed_at",
    "case_reopened_at",
    "case_parked",
    "callback_solved",
    "callback_satisfaction",
    "first_callback_at",
    "callback_at",
    "park_changed_at",
)
