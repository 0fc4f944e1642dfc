"""工单编号: the per-day counter every intake draws from (``dispatch.handlers.case_numbers``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.handlers.case_numbers import next_case_no
from events import StoreUnavailable
from events.database import make_engine


def _day(unique: str) -> str:
    """A day of its own for the test (the counter's key is eight characters)."""
    return f"9{int(unique, 16) % 10_000_000:07d}"


def test_concurrent_intakes_get_every_number_of_the_day_once(engine: Engine, unique: str) -> None:
    day = _day(unique)
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda _: next_case_no(engine, day), range(200)))

    assert sorted(numbers) == [f"{day}-{n:05d}" for n in range(1, 201)]


@pytest.mark.postgres_only
def test_a_dead_connection_costs_one_503_and_the_pool_carries_on(
    engine: Engine, database_url: str, unique: str
) -> None:
    """A connection the server ended (a restart, an administrator) fails the intake in
    flight with StoreUnavailable (503), nothing counted twice; the next intake gets a fresh
    connection and the next number."""
    day = _day(unique)
    lone = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        assert next_case_no(lone, day) == f"{day}-00001"
        pooled: Any = lone.raw_connection()
        backend = pooled.driver_connection.info.backend_pid
        pooled.close()
        with engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

        with pytest.raises(StoreUnavailable):
            next_case_no(lone, day)  # used within the last second: not pinged, it fails

        assert next_case_no(lone, day) == f"{day}-00002"
    finally:
        lone.dispose()
