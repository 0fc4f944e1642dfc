"""Fixtures for the routing pipeline: a ``World`` with its own database and Redis database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from routing_world import World, claimed_redis, fresh_database


@pytest.fixture
def world(tmp_path: Path, redis_url: str) -> Iterator[World]:
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        world = World.build(database_url, own_redis)
        world.load_catalogue()
        try:
            yield world
        finally:
            world.close()
