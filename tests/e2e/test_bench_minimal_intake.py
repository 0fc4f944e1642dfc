"""The raw baseline of the intake benchmark answers like an intake: 201 for a complaint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bench.load import complaint
from bench.minimal_intake import create_minimal_app, minimal_cases


@pytest.fixture
def minimal_client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_minimal_app(engine)) as client:
        yield client
    minimal_cases.drop(engine)


def test_a_complaint_is_validated_and_inserted(minimal_client: TestClient, engine: Engine) -> None:
    answer = minimal_client.post("/api/v1/cases", json=complaint(1))
    assert answer.status_code == 201
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(minimal_cases).where(minimal_cases.c.id == answer.json()["id"])
        ).one()
    assert row.category == "road.pothole"
    assert row.body["location"] == {"address": None, "lat": None, "lon": None, "grid": "XYL-01"}


def test_a_body_of_another_shape_is_refused(minimal_client: TestClient) -> None:
    answer = minimal_client.post("/api/v1/cases", json={"category": "", "description": "x"})
    assert answer.status_code == 422
