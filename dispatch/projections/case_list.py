"""The case list (工单列表) and the department inbox (部门待办): one row per case, per task.

``case_tasks`` filtered by department *is* the inbox. Each batch costs a constant number of
statements — load the touched cases and their tasks, fold in memory (``case_rows``), then
insert and update in bulk — so a rebuild is not one SELECT per event.

Applying is idempotent: ``case_list.version`` is the stream version already folded in, and
an event at or below it is skipped, so a batch applied twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from dispatch.domain import events as ev
from dispatch.domain.events import registry
from dispatch.projections.base import Projection
from dispatch.projections.bulk import add_to, insert_rows, upsert_rows
from dispatch.projections.case_list_indexes import OUT_OF_PLAY, declare_case_list_indexes
from dispatch.projections.case_rows import CaseRows, Row, apply_event, derive, new_case
from dispatch.projections.search_index import trigram_index
from events import RecordedEvent, UnknownEventType, decode
from events.types import UtcDateTime

# Written once by the projection; later by whoever delivers the task (its own table or an
# update), so the projection never overwrites it.
WRITE_ONCE = frozenset({"id", "delivery"})
IN_CHUNK = 900  # stay under SQLite's bound-parameter limit on old builds


def _when(name: str) -> sa.Column[Any]:
    return sa.Column(name, UtcDateTime(), nullable=True)


class CaseListProjection(Projection):
    name = "case_list"
    # 2: ``overdue`` means late now (cleared once the late step is done); ``was_overdue``
    # and the tasks' ``late_stages``, ``overdue`` and ``was_overdue`` added.
    #    ``callback_round`` (which round the last callback rated, for the 待回访 worklist).
    #    ``urged_level``, ``urged_at``, ``urged_note`` on case_tasks.
    #    nature, park_review_due and case_callers (§8.2, §8.5).
    #    ``media_url`` (Open311's link to a picture, shown again by GET requests).
    # 3: ``unroutable_candidates``: the rules the router weighed for an unroutable case.
    #    the street's evaluation of summoned tasks (``evaluation``, ``evaluation_note``,
    #    ``evaluated_at`` on case_tasks: 双考核, the summoned worklist).
    # 4: ``case_counts``: cases per status, for the list's total.
    # 5: ``case_department_counts``: cases per department with a task in play, for the total
    #    of the list filtered by department (counting 200,000 distinct case ids from an index
    #    took 60 ms at a million cases).
    version = 5
    per_stream = True  # each row depends on its own case's events only

    def define(self, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        code = sa.String(64)
        cases = sa.Table(
            f"case_list{suffix}",
            metadata,
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("case_no", sa.String(32), nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("channel", sa.String(16), nullable=False),
            sa.Column("nature", sa.String(16), nullable=False),
            sa.Column("category", code, nullable=False),
            sa.Column("urgency", sa.String(16), nullable=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("address", sa.Text),
            sa.Column("lat", sa.Float),
            sa.Column("lon", sa.Float),
            sa.Column("grid", code),
            sa.Column("street", code),
            sa.Column("reporter_ref", sa.String(64)),
            sa.Column("received_at", UtcDateTime(), nullable=False),
            sa.Column("updated_at", UtcDateTime(), nullable=False),
            sa.Column("lead_department", code),
            sa.Column("departments", sa.Text, nullable=False),  # ",water,roads," for LIKE
            sa.Column("open_tasks", sa.Integer, nullable=False),
            sa.Column("overdue", sa.Boolean, nullable=False),  # late now
            sa.Column("was_overdue", sa.Boolean, nullable=False),  # ever late
            sa.Column("warning_level", sa.String(8)),
            sa.Column("hops", sa.Integer, nullable=False),
            sa.Column("reopen_count", sa.Integer, nullable=False),
            sa.Column("unroutable", sa.Text),  # the reason, while no rule matched
            # [{rule_id, matched, reason}] of that CaseUnroutable (v2), for 待派单's why, as
            # JSON text: the bulk writers (COPY, raw upserts) pass values to the driver as is.
            sa.Column("unroutable_candidates", sa.Text),
            sa.Column("media_url", sa.Text),
            _when("answered_at"),
            sa.Column("parked_review_on", sa.Date),
            # CaseParkReviewDue was raised for the current parking (the park_review worklist).
            sa.Column("park_review_due", sa.Boolean, nullable=False),
            sa.Column("merged_into", sa.String(64)),
            _when("closed_at"),
            sa.Column("urge_count", sa.Integer, nullable=False),
            sa.Column("callback_solved", sa.String(16)),
            sa.Column("callback_satisfaction", sa.String(16)),
            sa.Column("callback_round", sa.Integer),  # reopen_count when it was recorded
            sa.Column("search", sa.Text, nullable=False),
        )
        for columns in (
            ("received_at",),
            ("status", "received_at"),
            ("category",),
            ("grid",),
            ("street", "received_at"),
            ("lead_department",),
            ("case_no",),
        ):
            sa.Index(f"ix_case_list{suffix}_{'_'.join(columns)}", *(cases.c[c] for c in columns))
        trigram_index(f"ix_case_list{suffix}_search_trgm", cases.c.search)  # q, on PostgreSQL

        tasks = sa.Table(
            f"case_tasks{suffix}",
            metadata,
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("case_id", sa.String(64), nullable=False),
            sa.Column("case_no", sa.String(32), nullable=False),
            sa.Column("department", code, nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("state", sa.String(20), nullable=False),
            sa.Column("round", sa.Integer, nullable=False),
            sa.Column("dispatched_version", sa.Integer, nullable=False),  # orders the tasks
            sa.Column("rule_id", code),
            sa.Column("whistle_id", code),
            sa.Column("catalogue_version", sa.Integer),
            sa.Column("policy", code),
            _when("sign_by"),
            _when("contact_by"),
            _when("reply_by"),
            _when("original_reply_by"),
            sa.Column("calendar_assumed", sa.Boolean, nullable=False),
            _when("dispatched_at"),
            _when("signed_at"),
            _when("contacted_at"),
            _when("replied_at"),
            sa.Column("resolution", sa.Text),
            _when("last_progress_at"),
            sa.Column("cancel_reason", sa.Text),
            sa.Column("return_reason", sa.String(16)),
            sa.Column("return_basis", sa.Text),
            _when("return_requested_at"),
            _when("returned_at"),
            _when("extension_reply_by"),  # a pending request
            sa.Column("extension_reason", sa.Text),
            sa.Column("extensions_approved", sa.Integer, nullable=False),
            sa.Column("warning_level", sa.String(8)),
            sa.Column("late_stages", sa.String(32), nullable=False),  # "sign,reply": warned red
            sa.Column("overdue", sa.Boolean, nullable=False),  # late now for a step not done
            sa.Column("was_overdue", sa.Boolean, nullable=False),
            sa.Column("urged_level", sa.String(16)),  # the latest urge concerning the task
            _when("urged_at"),
            sa.Column("urged_note", sa.Text),
            sa.Column("evaluation", sa.String(16)),  # 双考核: satisfied | basic | unsatisfied
            sa.Column("evaluation_note", sa.Text),
            _when("evaluated_at"),
            sa.Column("delivery", sa.String(16), server_default="pending"),
            _when("updated_at"),
        )
        sa.Index(f"ix_case_tasks{suffix}_case_id", tasks.c.case_id)
        sa.Index(f"ix_case_tasks{suffix}_department_state", tasks.c.department, tasks.c.state)
        sa.Index(f"ix_case_tasks{suffix}_state", tasks.c.state)
        # The worklists: a street's summoned tasks, and extensions awaiting a ruling.
        sa.Index(f"ix_case_tasks{suffix}_role_state", tasks.c.role, tasks.c.state)
        sa.Index(f"ix_case_tasks{suffix}_extension_reply_by", tasks.c.extension_reply_by)
        declare_case_list_indexes(cases, tasks, suffix)

        warnings = sa.Table(
            f"case_warnings{suffix}",
            metadata,
            sa.Column("task_id", sa.String(64), primary_key=True),
            sa.Column("stage", sa.String(8), primary_key=True),
            sa.Column("level", sa.String(8), primary_key=True),
            sa.Column("case_id", sa.String(64), nullable=False),
            sa.Column("department", code, nullable=False),
            _when("deadline"),
            _when("raised_at"),
        )
        sa.Index(f"ix_case_warnings{suffix}_case_id", warnings.c.case_id)

        # 并案: one row per duplicate, written from the duplicate's own stream (its CaseMerged
        # and what its CaseReceived said), so the target lists its callers without a fold.
        callers = sa.Table(
            f"case_callers{suffix}",
            metadata,
            sa.Column("case_id", sa.String(64), primary_key=True),  # the merged duplicate
            sa.Column("into", sa.String(64), nullable=False),
            sa.Column("case_no", sa.String(32), nullable=False),
            sa.Column("channel", sa.String(16), nullable=False),
            _when("received_at"),
            _when("merged_at"),
        )
        sa.Index(f"ix_case_callers{suffix}_into", callers.c.into)
        # How many cases are in each status: the total of an unfiltered list (or one filtered
        # by status alone) without counting a million rows on every page.
        counts = sa.Table(
            f"case_counts{suffix}",
            metadata,
            sa.Column("status", sa.String(16), primary_key=True),
            sa.Column("cases", sa.Integer, nullable=False),
        )
        # How many cases each department has a task in play on (neither returned nor
        # cancelled, any round): the total of the list filtered by department alone.
        department_counts = sa.Table(
            f"case_department_counts{suffix}",
            metadata,
            sa.Column("department", code, primary_key=True),
            sa.Column("cases", sa.Integer, nullable=False),
        )
        return {
            "case_list": cases,
            "case_tasks": tasks,
            "case_warnings": warnings,
            "case_callers": callers,
            "case_counts": counts,
            "case_department_counts": department_counts,
        }

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        loaded = _load(conn, tables, {r.stream_id for r in batch})
        before = {case_id: _counted_in(rows) for case_id, rows in loaded.items()}
        touched = _fold(loaded, batch)
        _count(conn, tables, before, touched)
        _upsert(conn, tables["case_list"], [r.case for r in touched])
        _upsert(conn, tables["case_tasks"], [r.tasks[t] for r in touched for t in r.dirty_tasks])
        _upsert(conn, tables["case_warnings"], [w for r in touched for w in r.warnings])
        _upsert(conn, tables["case_callers"], [r.caller for r in touched if r.caller])

    def fill(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        """``apply`` for streams the tables have never seen: nothing to load, and every row
        is new, so it is inserted (``COPY`` on PostgreSQL) instead of upserted."""
        touched = _fold({}, batch)
        _count(conn, tables, {}, touched)
        _insert(conn, tables["case_list"], [r.case for r in touched])
        _insert(conn, tables["case_tasks"], [r.tasks[t] for r in touched for t in r.dirty_tasks])
        # A warning raised twice keeps its first row, as ``ON CONFLICT DO NOTHING`` would.
        warnings: dict[tuple[Any, ...], Row] = {}
        for rows in touched:
            for warning in rows.warnings:
                warnings.setdefault(_key(tables["case_warnings"], warning), warning)
        _insert(conn, tables["case_warnings"], list(warnings.values()))
        _insert(conn, tables["case_callers"], [r.caller for r in touched if r.caller])


def _fold(touched: dict[str, CaseRows], batch: Sequence[RecordedEvent]) -> list[CaseRows]:
    """Fold ``batch`` into the loaded rows (by case id); returns the cases that changed."""
    for recorded in batch:
        rows = touched.get(recorded.stream_id)
        if rows is not None and recorded.version <= rows.case["version"]:
            continue  # already folded in: applying twice changes nothing
        event = _decode(recorded)
        if rows is None:
            if isinstance(event, ev.CaseReceived):
                touched[recorded.stream_id] = new_case(recorded, event)
            continue  # not a case stream, or its start was never seen
        if event is not None:
            apply_event(rows, recorded, event)
        else:
            rows.case["version"] = recorded.version
            rows.dirty = True
    changed = [r for r in touched.values() if r.dirty]
    for rows in changed:
        derive(rows)
    return changed


Counted = tuple[str, frozenset[str]]  # a case's status and its departments with a task in play


def _counted_in(rows: CaseRows) -> Counted:
    """Where a case counts: its status, and each department with a task of it in play."""
    in_play = {t["department"] for t in rows.tasks.values() if t["state"] not in OUT_OF_PLAY}
    return rows.case["status"], frozenset(in_play)


def _count(
    conn: Connection,
    tables: dict[str, sa.Table],
    before: dict[str, Counted],
    touched: list[CaseRows],
) -> None:
    """Move the per-status and per-department counts by what the batch changed (``before``:
    where the cases counted as loaded; a case not among them is new). A status or department
    no case is in has no row."""
    statuses: Counter[str] = Counter()
    departments: Counter[str] = Counter()
    for rows in touched:
        old_status, old_departments = before.get(rows.case["id"], (None, frozenset()))
        new_status, new_departments = _counted_in(rows)
        if old_status != new_status:
            statuses[new_status] += 1
            if old_status is not None:
                statuses[old_status] -= 1
        departments.update(new_departments - old_departments)
        departments.subtract(old_departments - new_departments)
    _move(conn, tables["case_counts"], statuses)
    _move(conn, tables["case_department_counts"], departments)


def _move(conn: Connection, counts: sa.Table, delta: Counter[str]) -> None:
    """Add ``delta`` to each key's ``cases`` (``bulk.add_to``); rows left at zero go."""
    add_to(conn, counts, [(key, n) for key, n in sorted(delta.items()) if n])
    if any(n < 0 for n in delta.values()):  # only a count that fell can reach 0
        conn.execute(counts.delete().where(counts.c.cases == 0))


def _key(table: sa.Table, row: Row) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in table.primary_key.columns)


@cache
def live_tables() -> dict[str, sa.Table]:
    """The live tables, for read queries (the runner owns and swaps them)."""
    return CaseListProjection().define(sa.MetaData())


def _decode(recorded: RecordedEvent) -> Any:
    try:
        return decode(registry, recorded)
    except UnknownEventType:
        return None  # a type this projection does not know only moves the version


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    values = list(values)
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _load(conn: Connection, tables: dict[str, sa.Table], ids: set[str]) -> dict[str, CaseRows]:
    cases, tasks = tables["case_list"], tables["case_tasks"]
    loaded: dict[str, CaseRows] = {}
    for chunk in _chunks(ids):
        result = conn.execute(sa.select(cases).where(cases.c.id.in_(chunk)))
        keys = list(result.keys())
        for values in result.all():
            row = dict(zip(keys, values, strict=True))
            loaded[row["id"]] = CaseRows(case=row)
    for chunk in _chunks(loaded):
        result = conn.execute(sa.select(tasks).where(tasks.c.case_id.in_(chunk)))
        keys = list(result.keys())
        for values in result.all():
            row = dict(zip(keys, values, strict=True))
            loaded[row["case_id"]].tasks[row["id"]] = row
    return loaded


def _insert(conn: Connection, table: sa.Table, rows: list[Row]) -> None:
    if conn.dialect.name == "postgresql":
        insert_rows(conn, table, rows)
    elif rows:
        conn.execute(table.insert(), rows)


def _upsert(conn: Connection, table: sa.Table, rows: list[Row]) -> None:
    """Insert new rows and overwrite changed ones (a warning, once raised, never changes)."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    if conn.dialect.name == "postgresql":
        columns = [c.name for c in table.c]
        values = list(map(itemgetter(*columns), rows))
        upsert_rows(conn, table, columns, values, _on_conflict(conn, table, keys, columns))
        return
    statement = sqlite_insert(table)
    if table.name.startswith("case_warnings"):
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    else:
        updated = {c.name: statement.excluded[c.name] for c in table.c if c.name not in WRITE_ONCE}
        statement = statement.on_conflict_do_update(index_elements=keys, set_=updated)
    conn.execute(statement, rows)


def _on_conflict(conn: Connection, table: sa.Table, keys: list[str], columns: list[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    conflict = f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO "
    if table.name.startswith("case_warnings"):
        return conflict + "NOTHING"
    return (
        conflict
        + "UPDATE SET "
        + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns if c not in WRITE_ONCE)
    )
