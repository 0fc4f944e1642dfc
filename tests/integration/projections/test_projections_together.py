"""Projections caught up together from one read of the log end where each alone would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.base import lock_key
from dispatch.projections.case_list import CaseListProjection
from events import EventStore, RecordedEvent

from worlds.projection_story import Story, checkpoint, rows_of


class Broken(CaseListProjection):
    """Writes part of its batch, then fails."""

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        super().apply(conn, tables, batch[:1])
        raise RuntimeError("projection crashed mid-batch")


def test_projections_caught_up_together_hold_what_each_alone_holds(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    alone, reference = isolated()
    _, first = isolated()
    _, second = isolated()
    together = ProjectionRunner(engine, [first, second], batch_size=7)
    story(f"c-{unique}").received().dispatched(f"t-{unique}", "water")
    story(f"d-{unique}").received().dispatched(f"u-{unique}", "roads")

    alone.catch_up()
    while together.catch_up_together(max_batches=3):
        pass

    head = EventStore(engine).head_position()
    expected = rows_of(engine, alone, reference.name)
    assert rows_of(engine, together, first.name) == expected
    assert rows_of(engine, together, second.name) == expected
    assert checkpoint(engine, first.name) == checkpoint(engine, second.name) == head


def test_a_projection_behind_the_others_catches_up_from_the_shared_read(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    ahead_runner, ahead = isolated()
    _, behind = isolated()
    story(f"c-{unique}").received().dispatched(f"t-{unique}", "water")
    ahead_runner.catch_up()  # one projection is already at the head, the other at 0
    story(f"d-{unique}").received()

    together = ProjectionRunner(engine, [ahead, behind], batch_size=5)
    while together.catch_up_together(max_batches=2):
        pass

    head = EventStore(engine).head_position()
    assert checkpoint(engine, ahead.name) == checkpoint(engine, behind.name) == head
    assert rows_of(engine, together, behind.name) == rows_of(engine, together, ahead.name)


def test_a_failing_projection_does_not_stop_the_others(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    _, broken = isolated(Broken)
    _, healthy = isolated()
    story(f"c-{unique}").received().dispatched(f"t-{unique}", "water")
    # One batch holds the whole (shared) log: the healthy projection reaches the head in it.
    together = ProjectionRunner(engine, [broken, healthy], batch_size=1_000_000)

    with pytest.raises(RuntimeError, match="crashed"):
        together.catch_up_together()

    head = EventStore(engine).head_position()
    assert checkpoint(engine, healthy.name) == head
    assert checkpoint(engine, broken.name) < head  # nothing of its failed batch was kept


@pytest.mark.postgres_only
def test_a_projection_another_runner_holds_is_left_to_it_while_the_others_go_on(
    engine: Engine, story: Callable[[str], Story], isolated: Any, unique: str
) -> None:
    _, held = isolated()
    _, free = isolated()
    story(f"c-{unique}").received().dispatched(f"t-{unique}", "water")
    together = ProjectionRunner(engine, [held, free], batch_size=1_000_000)

    with engine.begin() as other_runner:  # another process is applying ``held`` right now
        other_runner.execute(
            sa.select(sa.func.pg_advisory_xact_lock(lock_key(held.checkpoint_name)))
        )
        together.catch_up_together()

    head = EventStore(engine).head_position()
    assert checkpoint(engine, free.name) == head
    assert checkpoint(engine, held.name) == 0
    together.catch_up_together()  # once it is free, it catches up
    assert checkpoint(engine, held.name) == head
