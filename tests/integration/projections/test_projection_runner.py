"""The runner's rules: rows and checkpoint move together, once, and a rebuild swaps in whole."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.case_list import CaseListProjection
from dispatch.projections.runner import projection_state
from events import EventStore, RecordedEvent

from worlds.projection_story import Story, checkpoint, rows_of


def test_catching_up_twice_applies_each_event_once(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    runner, projection = isolated()
    story(f"c-{unique}").received().dispatched(f"t-{unique}", "water")
    first = runner.catch_up()
    before = rows_of(engine, runner, projection.name)
    assert runner.catch_up() == 0
    assert rows_of(engine, runner, projection.name) == before
    assert first > 0
    assert runner.lag()[projection.name] == 0
    assert checkpoint(engine, projection.name) == EventStore(engine).head_position()


class Crashing(CaseListProjection):
    """Writes some rows, then fails in the middle of its batch when armed."""

    armed = False

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        super().apply(conn, tables, batch[: len(batch) // 2])
        if type(self).armed:
            raise RuntimeError("projection crashed mid-batch")
        super().apply(conn, tables, batch[len(batch) // 2 :])


def test_a_crash_mid_batch_leaves_rows_and_checkpoint_consistent(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    crashing: type[Crashing] = type(f"Crashing{unique}", (Crashing,), {"armed": False})
    runner, projection = isolated(crashing, batch_size=4)
    runner.catch_up()
    before_rows = rows_of(engine, runner, projection.name)
    before_checkpoint = checkpoint(engine, projection.name)
    for n in range(3):
        story(f"c-{unique}-{n}").received().dispatched(f"t-{unique}-{n}", "water")

    crashing.armed = True
    with pytest.raises(RuntimeError, match="mid-batch"):
        runner.catch_up()
    assert rows_of(engine, runner, projection.name) == before_rows
    assert checkpoint(engine, projection.name) == before_checkpoint

    crashing.armed = False
    assert runner.catch_up() == 6
    fresh, fresh_projection = isolated()
    fresh.catch_up()
    assert rows_of(engine, runner, projection.name) == rows_of(engine, fresh, fresh_projection.name)


def test_rebuild_while_intake_continues_swaps_in_complete_tables(
    scratch_engine: Engine, isolated: Any
) -> None:
    store = EventStore(scratch_engine)
    for n in range(150):
        Story(store, f"early-{n}").received().dispatched(f"early-t-{n}", "water")
    runner, projection = isolated(on=scratch_engine)
    runner.rebuild_batch_size = 50  # many batches, so appends land in between
    runner.catch_up()

    stop = threading.Event()
    appended: list[str] = []

    def intake() -> None:
        n = 0
        while not stop.is_set() or n < 5:
            Story(store, f"late-{n}").received().dispatched(f"late-t-{n}", "roads")
            appended.append(f"late-{n}")
            n += 1

    writer = threading.Thread(target=intake)
    writer.start()
    try:
        runner.rebuild(projection.name)
    finally:
        stop.set()
        writer.join()

    # At the swap, the tables hold exactly the log up to the checkpoint ...
    upto = checkpoint(scratch_engine, projection.name)
    cases = runner.tables(projection.name)["case_list"]
    with scratch_engine.connect() as conn:
        expected: dict[str, int] = dict(
            conn.execute(
                sa.text(
                    "SELECT stream_id, MAX(version) FROM events WHERE position <= :p "
                    "GROUP BY stream_id"
                ),
                {"p": upto},
            ).all()
        )
        got: dict[str, int] = dict(conn.execute(sa.select(cases.c.id, cases.c.version)).all())
    assert got == expected
    assert len(appended) >= 5

    # ... and catching up from there equals a projection built from scratch.
    runner.catch_up()
    fresh, fresh_projection = isolated(on=scratch_engine)
    fresh.catch_up()
    assert rows_of(scratch_engine, runner, projection.name) == rows_of(
        scratch_engine, fresh, fresh_projection.name
    )


def test_rebuild_reports_progress_and_keeps_an_index_per_table(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    story(f"c-{unique}").received()
    runner, projection = isolated()
    seen: list[tuple[int, int]] = []
    runner.rebuild(projection.name, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] <= seen[-1][1]
    runner.rebuild(projection.name)  # a second swap must not clash with the first's names
    inspector = sa.inspect(engine)
    table = runner.tables(projection.name)["case_tasks"].name
    indexes = {str(ix["name"]) for ix in inspector.get_indexes(table)}
    assert f"ix_{table}_case_id" in indexes
    assert not any("_shadow" in name for name in indexes)
    assert not inspector.has_table(f"{table}_shadow")


def test_a_changed_version_is_reported_and_left_alone_until_rebuilt(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    runner, projection = isolated()
    runner.catch_up()
    bumped = type(projection)
    bumped.version = projection.version + 1
    assert runner.ensure_tables() == [projection.name]
    story(f"c-{unique}").received()
    assert runner.catch_up() == 0  # the old tables may not fit the new code
    assert runner.lag()[projection.name] >= 1
    assert runner.ensure_current() == [projection.name]
    assert runner.ensure_tables() == []
    with engine.connect() as conn:
        version = conn.execute(
            sa.select(projection_state.c.version).where(projection_state.c.name == projection.name)
        ).scalar()
    assert version == bumped.version


@pytest.mark.postgres_only
def test_a_second_runner_skips_a_projection_another_holds(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    from dispatch.projections.runner import lock_key

    runner, projection = isolated()
    runner.catch_up()
    story(f"c-{unique}").received()
    with engine.begin() as conn:
        key = lock_key(f"projection:{projection.name}")
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        other = ProjectionRunner(engine, [projection])
        assert other.catch_up() == 0
    assert runner.catch_up() == 1


class HeldLock:
    """Another runner's batch, as far as the projection's advisory lock can tell."""

    def __init__(self, engine: Engine, name: str) -> None:
        from dispatch.projections.runner import lock_key

        self.engine, self.key = engine, lock_key(f"projection:{name}")
        self.holding, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(self.key)))
            self.holding.set()
            self.release.wait(10)

    def __enter__(self) -> HeldLock:
        self.thread.start()
        assert self.holding.wait(5)
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.mark.postgres_only
def test_a_reader_waits_for_the_batch_another_runner_holds(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    runner, projection = isolated()
    runner.catch_up()
    story(f"c-{unique}").received()
    with HeldLock(engine, projection.name) as held:
        assert runner.catch_up() == 0  # a background runner leaves it to the holder
        threading.Timer(0.3, held.release.set).start()
        assert runner.catch_up(wait=True) == 1  # a reader waits, then sees the case


@pytest.mark.postgres_only
def test_a_reader_gives_up_waiting_for_a_stuck_runner(
    engine: Engine,
    story: Callable[[str], Story],
    isolated: Any,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dispatch.projections import runner as runner_module

    monkeypatch.setattr(runner_module, "WAIT_FOR_LOCK", "200ms")
    runner, projection = isolated()
    runner.catch_up()
    story(f"c-{unique}").received()
    with HeldLock(engine, projection.name):
        assert runner.catch_up(wait=True) == 0  # no error: the read shows what is there
    assert runner.catch_up(wait=True) == 1


def test_unknown_event_types_only_move_the_version(
    engine: Engine, isolated: Any, unique: str
) -> None:
    from events import Event, Meta

    class Stray(Event):
        type = f"Stray{unique}"
        note: str

    store = EventStore(engine)
    meta = Meta(actor="t", role="operator", command_id=uuid.uuid4().hex)
    s = Story(store, f"c-{unique}").received()
    store.append(s.case_id, [Stray(note="x")], expected_version=1, meta=meta)
    runner, projection = isolated()
    runner.catch_up()
    cases = runner.tables(projection.name)["case_list"]
    with engine.connect() as conn:
        row = conn.execute(sa.select(cases).where(cases.c.id == s.case_id)).mappings().one()
    assert (row["version"], row["status"]) == (2, "received")
