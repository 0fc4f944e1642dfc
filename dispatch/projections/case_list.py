"""The case list (工单列表) and the department inbox (部门待办): one row per case, per task.

``case_tasks`` filtered by department *is* the inbox. Each batch costs a constant number of
statements — load the touched cases and their tasks, fold in memory (``case_rows``), then
insert and update in bulk — so a rebuild is not one SELECT per event.

Applying is idempotent: ``case_list.version`` is the stream version already folded in, and
an event at or below it is skipped, so a batch applied twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.domain import events as ev
from dispatch.domain.events import registry
from dispatch.projections.base import Projection
from dispatch.projections.case_rows import CaseRows, Row, apply_event, new_case
from events import RecordedEvent, UnknownEventType

# Written once by the projection; later by whoever delivers the task (its own table or an
# update), so the projection never overwrites it.
WRITE_ONCE = frozenset({"id", "delivery"})
IN_CHUNK = 900  # stay under SQLite's bound-parameter limit on old builds


def _when(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


class CaseListProjection(Projection):
    name = "case_list"
    version = 1

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
            sa.Column("category", code, nullable=False),
            sa.Column("urgency", sa.String(16), nullable=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("address", sa.Text),
            sa.Column("lat", sa.Float),
            sa.Column("lon", sa.Float),
            sa.Column("grid", code),
            sa.Column("street", code),
            sa.Column("reporter_ref", sa.String(64)),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("lead_department", code),
            sa.Column("departments", sa.Text, nullable=False),  # ",water,roads," for LIKE
            sa.Column("open_tasks", sa.Integer, nullable=False),
            sa.Column("overdue", sa.Boolean, nullable=False),
            sa.Column("warning_level", sa.String(8)),
            sa.Column("hops", sa.Integer, nullable=False),
            sa.Column("reopen_count", sa.Integer, nullable=False),
            sa.Column("unroutable", sa.Text),  # the reason, while no rule matched
            _when("answered_at"),
            sa.Column("parked_review_on", sa.Date),
            sa.Column("merged_into", sa.String(64)),
            _when("closed_at"),
            sa.Column("urge_count", sa.Integer, nullable=False),
            sa.Column("callback_solved", sa.String(16)),
            sa.Column("callback_satisfaction", sa.String(16)),
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
            sa.Column("delivery", sa.String(16), server_default="pending"),
            _when("updated_at"),
        )
        sa.Index(f"ix_case_tasks{suffix}_case_id", tasks.c.case_id)
        sa.Index(f"ix_case_tasks{suffix}_department_state", tasks.c.department, tasks.c.state)
        sa.Index(f"ix_case_tasks{suffix}_state", tasks.c.state)

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
        return {"case_list": cases, "case_tasks": tasks, "case_warnings": warnings}

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        cases, tasks = tables["case_list"], tables["case_tasks"]
        touched = _load(conn, tables, {r.stream_id for r in batch})
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
        _insert(conn, cases, [r.case for r in changed if r.is_new])
        _update(conn, cases, [r.case for r in changed if not r.is_new])
        _insert(conn, tasks, [r.tasks[t] for r in changed for t in r.new_tasks])
        _update(
            conn,
            tasks,
            [r.tasks[t] for r in changed for t in r.dirty_tasks - r.new_tasks],
        )
        _insert_warnings(conn, tables["case_warnings"], [w for r in changed for w in r.warnings])


@cache
def live_tables() -> dict[str, sa.Table]:
    """The live tables, for read queries (the runner owns and swaps them)."""
    return CaseListProjection().define(sa.MetaData())


def _decode(recorded: RecordedEvent) -> Any:
    try:
        return registry.decode(recorded)
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
        for row in conn.execute(sa.select(cases).where(cases.c.id.in_(chunk))).mappings():
            loaded[row["id"]] = CaseRows(case=dict(row))
    for chunk in _chunks(loaded):
        for row in conn.execute(sa.select(tasks).where(tasks.c.case_id.in_(chunk))).mappings():
            loaded[row["case_id"]].tasks[row["id"]] = dict(row)
    return loaded


def _insert(conn: Connection, table: sa.Table, rows: list[Row]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def _update(conn: Connection, table: sa.Table, rows: list[Row]) -> None:
    if not rows:
        return
    params = [
        {k: v for k, v in row.items() if k not in WRITE_ONCE} | {"_id": row["id"]} for row in rows
    ]
    conn.execute(table.update().where(table.c.id == sa.bindparam("_id")), params)


def _insert_warnings(conn: Connection, table: sa.Table, rows: list[Row]) -> None:
    """Insert warnings not yet present; the domain raises each (task, stage, level) once,
    but a duplicate must not wedge the projection on a primary-key error forever."""
    if not rows:
        return
    present: set[tuple[str, str, str]] = set()
    for chunk in _chunks({w["task_id"] for w in rows}):
        query = sa.select(table.c.task_id, table.c.stage, table.c.level).where(
            table.c.task_id.in_(chunk)
        )
        present.update((r.task_id, r.stage, r.level) for r in conn.execute(query))
    fresh: dict[tuple[str, str, str], Row] = {}
    for warning in rows:
        key = (warning["task_id"], warning["stage"], warning["level"])
        if key not in present:
            fresh.setdefault(key, warning)
    _insert(conn, table, list(fresh.values()))
