"""Integration fixtures: the store on the session database, and throwaway databases.

Tests that tamper with the log, seal it or verify all of it get a database of their own, so
that a forged row can never leak into the shared session database or a neighbour's verify.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.ops.migrations import upgrade_database
from events import EventStore
from events.database import make_engine, normalise_url


@pytest.fixture
def store(engine: Engine) -> EventStore:
    return EventStore(engine)


@pytest.fixture
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test: on the test PostgreSQL server, else SQLite."""
    server_url = os.environ.get("DISPATCH_TEST_DATABASE_URL", "")
    if not server_url.startswith(("postgres", "postgresql")):
        url = f"sqlite:///{tmp_path / 'scratch.db'}"
        _migrate(url)
        yield url
        return
    server = sa.make_url(normalise_url(server_url))
    name = f"sw_scratch_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def scratch_engine(scratch_database_url: str) -> Iterator[Engine]:
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
