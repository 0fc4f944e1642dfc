"""Commands do not catch the read models up; reads do (``Container.fresh``).

No scheduler runs in these tests, so whatever a read shows right after a command it found by
catching the case list up itself.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dispatch.bootstrap import Container
from dispatch.projections.case_list import live_tables

API = "/api/v1"

pytestmark = pytest.mark.usefixtures("sample_catalogue")

COMPLAINT = {
    "channel": "phone",
    "category": "road.pothole",
    "description": "路面塌陷，车辆无法通行",
    "urgency": "normal",
    "location": {"address": "西一路12号", "lat": 34.27, "lon": 108.952},
}


def listed(container: Container, case_id: str) -> bool:
    cases = live_tables()["case_list"]
    with container.store.reading() as conn:
        return conn.execute(sa.select(cases.c.id).where(cases.c.id == case_id)).first() is not None


def test_intake_answers_without_catching_the_case_list_up(
    client: TestClient, login, app_container: Container
) -> None:
    created = client.post(f"{API}/cases", json=COMPLAINT, headers=login("operator"))
    assert created.status_code == 201, created.text
    assert not listed(app_container, created.json()["id"])


def test_a_case_is_readable_and_in_the_inbox_right_after_intake(client: TestClient, login) -> None:
    case_id = client.post(f"{API}/cases", json=COMPLAINT, headers=login("operator")).json()["id"]

    shown = client.get(f"{API}/cases/{case_id}", headers=login("dispatcher"))
    assert shown.status_code == 200, shown.text
    assert shown.json()["id"] == case_id

    inbox = client.get(f"{API}/tasks", headers=login("liaison", department="roads"))
    assert inbox.status_code == 200, inbox.text
    assert case_id in {item["case_id"] for item in inbox.json()["items"]}
