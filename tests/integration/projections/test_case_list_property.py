"""For random legal case histories, the case list built bit by bit equals a rebuild from 0,
applying a batch twice changes nothing, every row agrees with the aggregate's own fold, and
the per-status counts are the rows' count."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from dispatch.domain.case import CaseState
from events import EventStore

from worlds.projection_story import RandomCase, rows_of

# Each example creates, fills and rebuilds tables: shrinking a failure would take many
# minutes, and the printed draws already tell the story, so the shrink phase is left out.
PROPERTY = settings(
    max_examples=20,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(data=st.data())
def test_incremental_catch_up_in_random_batches_equals_a_rebuild_from_zero(
    scratch_engine: Engine, isolated: Any, data: st.DataObject
) -> None:
    def pick(options: Sequence[Any]) -> Any:
        return data.draw(st.sampled_from(list(options)))

    store = EventStore(scratch_engine)
    cases = [RandomCase(store, uuid.uuid4().hex) for _ in range(data.draw(st.integers(1, 4)))]
    incremental, projection = isolated(on=scratch_engine)
    for _ in range(data.draw(st.integers(5, 40))):
        pick(cases).step(pick)
        if data.draw(st.integers(0, 3)) == 0:
            incremental.batch_size = data.draw(st.integers(1, 7))
            incremental.catch_up(max_batches=data.draw(st.integers(1, 3)))
    incremental.batch_size = data.draw(st.integers(1, 50))
    incremental.catch_up()

    rebuilt, fresh = isolated(on=scratch_engine)
    rebuilt.rebuild_batch_size = data.draw(st.integers(1, 50))
    rebuilt.rebuild(fresh.name)
    built = rows_of(scratch_engine, incremental, projection.name)
    assert_same(built, rows_of(scratch_engine, rebuilt, fresh.name))

    tail = data.draw(st.integers(1, 20))
    batch = store.read_all(after=max(0, store.head_position() - tail), limit=tail)
    with scratch_engine.begin() as conn:
        projection.apply(conn, incremental.tables(projection.name), batch)
    assert_same(rows_of(scratch_engine, incremental, projection.name), built)

    tables = incremental.tables(projection.name)
    with scratch_engine.connect() as conn:
        for case in cases:
            if case.state is not None:
                assert_agrees(conn, tables, case.case_id, case.state)
        assert_counted(conn, tables)


def assert_counted(conn: sa.Connection, tables: dict[str, sa.Table]) -> None:
    """The per-status counts are the rows' own count, the per-department counts the distinct
    cases of each department's tasks in play, and no status or department sits at zero."""
    cases, counts = tables["case_list"], tables["case_counts"]
    by_status = sa.select(cases.c.status, sa.func.count()).group_by(cases.c.status)
    assert dict(conn.execute(sa.select(counts)).all()) == dict(conn.execute(by_status).all())
    tasks, department_counts = tables["case_tasks"], tables["case_department_counts"]
    by_department = (
        sa.select(tasks.c.department, sa.func.count(sa.distinct(tasks.c.case_id)))
        .where(tasks.c.state.not_in(["returned", "cancelled"]))
        .group_by(tasks.c.department)
    )
    assert dict(conn.execute(sa.select(department_counts)).all()) == dict(
        conn.execute(by_department).all()
    )


def assert_same(got: dict[str, list[Any]], expected: dict[str, list[Any]]) -> None:
    for table, rows in expected.items():
        missing = set(rows) - set(got[table])
        extra = set(got[table]) - set(rows)
        assert not missing and not extra, f"{table}: expected {missing}, got {extra}"


def assert_agrees(
    conn: sa.Connection, tables: dict[str, sa.Table], case_id: str, state: CaseState
) -> None:
    cases, tasks = tables["case_list"], tables["case_tasks"]
    row = conn.execute(sa.select(cases).where(cases.c.id == case_id)).mappings().one()
    assert row["status"] == state.status.value
    assert row["hops"] == state.hops
    assert row["reopen_count"] == state.reopen_count
    assert row["open_tasks"] == len(state.open_tasks)
    assert (row["unroutable"] is not None) == (state.unroutable is not None)
    task_rows = {
        t["id"]: t
        for t in conn.execute(sa.select(tasks).where(tasks.c.case_id == case_id)).mappings()
    }
    assert set(task_rows) == set(state.tasks)
    for task_id, task in state.tasks.items():
        got = task_rows[task_id]
        assert got["state"] == task.state.value
        assert got["round"] == task.round
        assert (got["signed_at"] is None) == (task.signed_at is None)
        assert (got["extension_reply_by"] is None) == (task.pending_extension is None)
        assert got["extensions_approved"] == task.extensions_approved
