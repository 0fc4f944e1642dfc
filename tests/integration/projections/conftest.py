"""Fixtures for projection tests: case stories on the real store, isolated projections.

An isolated projection is the real ``CaseListProjection`` under its own name and table suffix,
so a test can crash it, rebuild it or replay it without touching the live ``case_list`` that
other tests read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from dispatch.projections import ProjectionRunner
from dispatch.projections.case_list import CaseListProjection
from events import EventStore

from worlds.projection_story import Story, isolated_projection


@pytest.fixture
def story(engine: Engine) -> Callable[[str], Story]:
    store = EventStore(engine)
    return lambda case_id: Story(store, case_id)


@pytest.fixture
def live_runner(engine: Engine) -> ProjectionRunner:
    """The real case list on the session database, caught up."""
    runner = ProjectionRunner(engine, [CaseListProjection()])
    runner.ensure_tables()
    runner.catch_up()
    return runner


def drop_projection(engine: Engine, runner: ProjectionRunner, name: str) -> None:
    with engine.begin() as conn:
        for table in runner.tables(name).values():
            table.drop(conn, checkfirst=True)


@pytest.fixture
def isolated(engine: Engine) -> Iterator[Callable[..., tuple[ProjectionRunner, Any]]]:
    made: list[tuple[ProjectionRunner, str]] = []

    def make(
        base: type[CaseListProjection] = CaseListProjection,
        *,
        on: Engine | None = None,
        batch_size: int = 500,
    ) -> tuple[ProjectionRunner, Any]:
        projection = isolated_projection(uuid.uuid4().hex[:8], base)
        runner = ProjectionRunner(on or engine, [projection], batch_size=batch_size)
        runner.ensure_tables()
        made.append((runner, projection.name))
        return runner, projection

    yield make
    for runner, name in made:
        drop_projection(runner.engine, runner, name)
