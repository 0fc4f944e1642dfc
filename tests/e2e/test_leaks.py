"""Refusals and probes tell a caller nothing about what is not theirs (DESIGN.md §8.9)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"
WATER_NAMES = ("water", "西安水务集团自来水公司")


def water_task(client: TestClient, login: Any) -> tuple[str, str]:
    """A fresh water outage dispatched to ``water``: (case id, its lead task id)."""
    body = {
        "channel": "phone",
        "category": "water.outage",
        "description": "整栋楼停水",
        "urgency": "normal",
        "location": {"address": "西一路12号", "lat": 34.27, "lon": 108.952},
        "reporter": {"name": "王女士", "phone": "13800138000"},
    }
    created = client.post(f"{API}/cases", json=body, headers=login("operator"))
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    case = client.get(f"{API}/cases/{case_id}", headers=login("dispatcher")).json()
    task = next(t for t in case["tasks"] if t["role"] == "lead")
    assert task["department"] == "water"
    return case_id, task["id"]


@pytest.mark.usefixtures("sample_catalogue")
def test_a_403_does_not_name_the_department_that_holds_the_task(client, login):
    _case_id, task = water_task(client, login)
    roads = login("liaison", department="roads")
    refused = client.post(f"{API}/tasks/{task}/sign", json={}, headers=roads)
    assert refused.status_code == 403
    assert not any(name in refused.text for name in WATER_NAMES), refused.text


@pytest.mark.usefixtures("sample_catalogue")
def test_another_departments_liaison_gets_403_not_the_cases_version(client, login):
    _case_id, task = water_task(client, login)
    roads = login("liaison", department="roads")
    stale = {**roads, "If-Match": '"1"'}
    refused = client.post(f"{API}/tasks/{task}/sign", json={}, headers=stale)
    assert "current_version" not in refused.json()
    assert refused.status_code == 403


@pytest.mark.usefixtures("sample_catalogue")
def test_the_own_liaison_with_a_stale_if_match_still_learns_the_version(client, login):
    _case_id, task = water_task(client, login)
    water = {**login("liaison", department="water"), "If-Match": '"1"'}
    stale = client.post(f"{API}/tasks/{task}/sign", json={}, headers=water)
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2


def test_readyz_details_are_for_supervisors_and_admins(client, login):
    assert set(client.get("/readyz").json()) == {"ready"}
    operator = client.get("/readyz", headers=login("operator")).json()
    assert set(operator) == {"ready"}
    for role in ("supervisor", "admin"):
        detailed = client.get("/readyz", headers=login(role)).json()
        assert {"ready", "checks", "backlog"} <= set(detailed)
    forged = client.get("/readyz", headers={"Authorization": "Bearer not-a-token"})
    assert set(forged.json()) == {"ready"}


@pytest.mark.usefixtures("sample_catalogue")
def test_a_liaison_reads_phone_numbers_in_the_texts_masked_and_the_hotline_in_full(client, login):
    body = {
        "channel": "phone",
        "category": "water.outage",
        "description": "停水两天，物业电话 138-0013-8000",
        "urgency": "normal",
        "location": {"address": "西一路12号（门卫 010-12345678）", "lat": 34.27, "lon": 108.952},
        "reporter": {"name": "王女士", "phone": "13800138000"},
    }
    case_id = client.post(f"{API}/cases", json=body, headers=login("operator")).json()["id"]
    water = login("liaison", department="water")
    task = client.get(f"{API}/tasks", headers=water).json()["items"]
    task_id = next(t["id"] for t in task if t["case_id"] == case_id)
    for action, payload in (
        ("sign", {}),
        ("contact", {"note": "已联系"}),
        ("reply", {"resolution": "已恢复供水，维修师傅 139 0013 9000"}),
    ):
        done = client.post(f"{API}/tasks/{task_id}/{action}", json=payload, headers=water)
        assert done.status_code == 200, done.text

    readers = {"liaison": water, "supervisor": login("supervisor")}
    for role, headers in readers.items():
        case = client.get(f"{API}/cases/{case_id}", headers=headers).json()
        listed = client.get(f"{API}/cases", params={"q": "停水两天"}, headers=headers).json()
        inbox = client.get(f"{API}/tasks", params={"page_size": 500}, headers=headers).json()
        seen = str([case, listed, inbox])
        for number in ("138-0013-8000", "13800138000", "010-12345678", "139 0013 9000"):
            assert number not in seen, (role, number)
        assert "138****8000" in case["description"]
        assert "010****5678" in case["location"]["address"]
        assert "139****9000" in case["tasks"][0]["resolution"]

    hotline = client.get(f"{API}/cases/{case_id}", headers=login("dispatcher")).json()
    assert hotline["description"] == body["description"]
    assert hotline["tasks"][0]["resolution"].endswith("139 0013 9000")
