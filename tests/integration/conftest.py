"""Integration fixtures: the store on the session database, and throwaway databases.

Tests that tamper with the log, seal it or verify all of it get a database of their own, so
that a forged row can never leak into the shared session database or a neighbour's verify.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dispatch.ops.migrations import upgrade_database
from events import EventStore
from events.database import make_engine

from worlds.databases import TEST_DATABASE_URL, temporary_database


@pytest.fixture
def store(engine: Engine) -> EventStore:
    return EventStore(engine)


@pytest.fixture
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test: on the test PostgreSQL server, else SQLite."""
    with temporary_database(
        TEST_DATABASE_URL, name="scratch", sqlite_folder=tmp_path, migrate=upgrade_database
    ) as url:
        yield url


@pytest.fixture
def scratch_engine(scratch_database_url: str) -> Iterator[Engine]:
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()
