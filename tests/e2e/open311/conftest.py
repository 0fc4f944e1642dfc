"""Fixtures for the Open311 tests: an API key, and the demo catalogue (its categories ask
extra questions, which the sample's do not)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dispatch.auth.apikeys import add_api_key
from dispatch.bootstrap import Container

DEMO_CATALOGUE = Path(__file__).parents[3] / "dispatch/demo/catalogue.yaml"


@pytest.fixture
def api_key(app_container: Container, unique: str) -> str:
    with app_container.engine.begin() as conn:
        return add_api_key(conn, f"city-app-{unique}")


@pytest.fixture
def demo_catalogue(engine: Engine) -> int:
    """Make the demo catalogue the active version; returns its number."""
    from dispatch.catalogue.versions import active_catalogue, load_catalogue

    active = active_catalogue(engine)
    if active is not None and active[1].version == "demo-qinghe":
        return active[0]
    text = DEMO_CATALOGUE.read_text(encoding="utf-8")
    number, _catalogue, _warnings = load_catalogue(engine, text, loaded_by="tests")
    return number
