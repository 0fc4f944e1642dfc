"""Fixtures for test modules that share one app and one user per kind of caller.

A module imports them by name (``from module_app import app_container, client, people,
scenes, signed_in``); pytest finds fixtures among a module's attributes, and these then
override the function-scoped ones of ``conftest.py`` for that module only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatch.bootstrap import Container
from dispatch.live import LiveHub

from worlds.scenarios import Login, Scenes, module_client, module_container, remembered


@pytest.fixture(scope="module")
def app_container(database_url: str, redis_url: str) -> Iterator[Container]:
    yield from module_container(database_url, redis_url)


@pytest.fixture(scope="module")
def client(app_container: Container) -> Iterator[TestClient]:
    yield from module_client(app_container)


@pytest.fixture(scope="module")
def signed_in() -> dict[tuple[Any, ...], dict[str, str]]:
    return {}


@pytest.fixture
def people(login: Login, signed_in: dict[tuple[Any, ...], dict[str, str]]) -> Login:
    return remembered(login, signed_in)


@pytest.fixture
def scenes(client: TestClient, people: Login, app_container: Container) -> Scenes:
    return Scenes(client, people, app_container)


@pytest.fixture(scope="module")
def short_live_streams(client: TestClient) -> None:
    """``GET /stream`` runs until the client leaves and the test client reads to the end: in a
    module that calls every route, a stream ends after a moment."""
    client.app.state.live_hub = LiveHub(limit=50, lifetime=0.3, poll_seconds=0.1)  # type: ignore[attr-defined]
