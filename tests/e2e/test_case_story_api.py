"""A whole case through HTTP, and the case's stream tells exactly that story."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"

pytestmark = pytest.mark.usefixtures("sample_catalogue")


def file_complaint(client: TestClient, headers: dict[str, str], **overrides: object) -> dict:
    body = {
        "channel": "phone",
        "category": "road.pothole",
        "description": "西一路与东七路交叉口有大坑，电动车已摔倒两次",
        "urgency": "normal",
        "location": {"address": "西一路12号", "lat": 34.27, "lon": 108.952},
        "reporter": {"name": "王女士", "phone": "13800138000"},
    }
    body.update(overrides)
    response = client.post(f"{API}/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def stream_types(client: TestClient, case_id: str, headers: dict[str, str]) -> list[str]:
    response = client.get(f"{API}/cases/{case_id}/events", headers=headers)
    assert response.status_code == 200, response.text
    return [item["type"] for item in response.json()["items"]]


def lead_task_id(client: TestClient, case_id: str, headers: dict[str, str]) -> str:
    items = client.get(f"{API}/cases/{case_id}/events", headers=headers).json()["items"]
    return next(
        item["data"]["task_id"]
        for item in items
        if item["type"] == "CaseDispatched" and item["data"]["role"] == "lead"
    )


def test_a_whole_case_from_intake_to_closure_tells_its_story(client, login):
    operator = login("operator")
    dispatcher = login("dispatcher")
    roads = login("liaison", department="roads")

    case = file_complaint(client, operator)
    assert case["case_no"]
    task = lead_task_id(client, case["id"], dispatcher)

    # The centre re-dispatches by hand: roads leads, the street office assists.
    response = client.post(
        f"{API}/cases/{case['id']}/dispatch",
        json={"departments": [{"code": "roads", "role": "lead"}]},
        headers=dispatcher,
    )
    assert response.status_code == 200, response.text
    task = lead_task_id_after(client, case["id"], dispatcher, previous=task)

    assert client.post(f"{API}/tasks/{task}/sign", json={}, headers=roads).status_code == 200
    contact = client.post(
        f"{API}/tasks/{task}/contact", json={"note": "已电话联系王女士"}, headers=roads
    )
    assert contact.status_code == 200, contact.text
    reply_by = (datetime.now().astimezone() + timedelta(days=12)).isoformat()
    extension = client.post(
        f"{API}/tasks/{task}/extension",
        json={"reply_by": reply_by, "reason": "需要协调施工队"},
        headers=roads,
    )
    assert extension.status_code == 200, extension.text
    approved = client.post(f"{API}/tasks/{task}/extension/approve", json={}, headers=dispatcher)
    assert approved.status_code == 200, approved.text
    replied = client.post(
        f"{API}/tasks/{task}/reply", json={"resolution": "已修补路面"}, headers=roads
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "replied"
    callback = client.post(
        f"{API}/cases/{case['id']}/callback",
        json={"solved": "solved", "satisfaction": "satisfied"},
        headers=operator,
    )
    assert callback.status_code == 200, callback.text
    closed = client.post(f"{API}/cases/{case['id']}/close", json={}, headers=operator)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"

    story = stream_types(client, case["id"], dispatcher)
    assert story[0] == "CaseReceived"
    assert story[-8:] == [
        "CaseDispatched",
        "TaskSigned",
        "CitizenContacted",
        "ExtensionRequested",
        "ExtensionApproved",
        "TaskReplied",
        "CallbackRecorded",
        "CaseClosed",
    ]


def lead_task_id_after(client, case_id, headers, *, previous: str) -> str:
    items = client.get(f"{API}/cases/{case_id}/events", headers=headers).json()["items"]
    leads = [
        item["data"]["task_id"]
        for item in items
        if item["type"] == "CaseDispatched" and item["data"]["role"] == "lead"
    ]
    assert leads[-1] != previous
    return leads[-1]


def test_a_return_for_territory_then_redispatch_makes_two_hops(client, login):
    operator = login("operator")
    dispatcher = login("dispatcher")
    case = file_complaint(client, operator, category="env.smoke")
    task = lead_task_id(client, case["id"], dispatcher)
    envir = login("liaison", department="envir")
    returned = client.post(
        f"{API}/tasks/{task}/return",
        json={"reason": "territory", "basis": "该餐馆属长乐中路街道管辖"},
        headers=envir,
    )
    assert returned.status_code == 200, returned.text
    approved = client.post(f"{API}/tasks/{task}/return/approve", json={}, headers=dispatcher)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "received"
    redispatched = client.post(
        f"{API}/cases/{case['id']}/dispatch",
        json={"departments": [{"code": "clz-office", "role": "lead"}]},
        headers=dispatcher,
    )
    assert redispatched.status_code == 200, redispatched.text
    items = client.get(f"{API}/cases/{case['id']}/events", headers=dispatcher).json()["items"]
    lead_dispatches = [
        i for i in items if i["type"] == "CaseDispatched" and i["data"]["role"] == "lead"
    ]
    assert [i["data"]["department"] for i in lead_dispatches] == ["envir", "clz-office"]
    assert "TaskReturnApproved" in [i["type"] for i in items]


def test_liaison_cannot_sign_another_departments_task(client, login):
    case = file_complaint(client, login("operator"), category="water.outage")
    task = lead_task_id(client, case["id"], login("dispatcher"))
    response = client.post(
        f"{API}/tasks/{task}/sign", json={}, headers=login("liaison", department="gas")
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert stream_types(client, case["id"], login("supervisor"))[-1] == "CaseDispatched"


def test_signing_twice_is_a_409_that_says_what_is_allowed_next(client, login):
    case = file_complaint(client, login("operator"), category="water.outage")
    task = lead_task_id(client, case["id"], login("dispatcher"))
    water = login("liaison", department="water")
    assert client.post(f"{API}/tasks/{task}/sign", json={}, headers=water).status_code == 200
    again = client.post(f"{API}/tasks/{task}/sign", json={}, headers=water)
    assert again.status_code == 409
    problem = again.json()
    assert problem["code"] == "task_already_signed"
    assert "contact" in problem["allowed_next"]
    assert "联系诉求人" in problem["detail"]  # the allowed next step, in words


def test_a_stale_if_match_is_412_and_a_current_one_passes(client, login):
    case = file_complaint(client, login("operator"), category="water.outage")
    task = lead_task_id(client, case["id"], login("dispatcher"))
    water = login("liaison", department="water")
    stale = client.post(f"{API}/tasks/{task}/sign", json={}, headers={**water, "If-Match": '"1"'})
    assert stale.status_code == 412
    current = client.post(f"{API}/tasks/{task}/sign", json={}, headers={**water, "If-Match": '"2"'})
    assert current.status_code == 200, current.text
    assert current.headers["ETag"] == '"3"'


def test_the_same_idempotency_key_returns_the_same_case(client, login):
    operator = login("operator")
    headers = {**operator, "Idempotency-Key": "call-7781"}
    first = file_complaint(client, headers)
    second = file_complaint(client, headers)
    assert second["id"] == first["id"]
    assert second["case_no"] == first["case_no"]


def test_extension_beyond_the_cap_is_refused(client, login):
    case = file_complaint(client, login("operator"))
    task = lead_task_id(client, case["id"], login("dispatcher"))
    roads = login("liaison", department="roads")
    client.post(f"{API}/tasks/{task}/sign", json={}, headers=roads)
    far = (datetime.now().astimezone() + timedelta(days=120)).isoformat()
    response = client.post(
        f"{API}/tasks/{task}/extension", json={"reply_by": far, "reason": "太忙"}, headers=roads
    )
    assert response.status_code == 409
    assert response.json()["code"] == "extension_too_long"
    assert "最长延期" in response.json()["detail"]


def test_a_liaison_sees_its_own_inbox_and_not_other_departments_cases(client, login):
    case = file_complaint(client, login("operator"), category="water.outage")
    water = login("liaison", department="water")
    gas = login("liaison", department="gas")
    inbox = client.get(f"{API}/tasks", params={"page_size": 200}, headers=water).json()
    assert case["id"] in {item["case_id"] for item in inbox["items"]}
    assert all(item["department"] == "water" for item in inbox["items"])
    forced = client.get(f"{API}/tasks", params={"department": "water"}, headers=gas).json()
    assert case["id"] not in {item["case_id"] for item in forced["items"]}
    assert client.get(f"{API}/cases/{case['id']}", headers=gas).status_code == 403
    seen = client.get(f"{API}/cases/{case['id']}", headers=water)
    assert seen.status_code == 200
    # Water holds the live task: its liaison must call the citizen (联系诉求人, §8.2).
    assert seen.json()["reporter"]["phone"] == "13800138000"
    assert seen.headers["ETag"] == f'"{seen.json()["version"]}"'


def test_operators_see_the_full_phone_and_the_routed_task(client, login):
    operator = login("operator")
    case = file_complaint(client, operator, category="water.outage")
    shown = client.get(f"{API}/cases/{case['id']}", headers=operator).json()
    assert shown["reporter"]["phone"] == "13800138000"
    assert [task["department"] for task in shown["tasks"]] == ["water"]
    assert shown["tasks"][0]["deadlines"]["sign_by"]
    listed = client.get(f"{API}/cases", params={"q": case["case_no"]}, headers=operator).json()
    assert [item["id"] for item in listed["items"]] == [case["id"]]


def test_deadlines_read_back_as_the_same_instant_they_were_dispatched_with(client, login):
    """SQLite keeps no offset: a +08:00 deadline must not come back eight hours off."""
    dispatcher = login("dispatcher")
    case = file_complaint(client, login("operator"), category="water.outage")
    items = client.get(f"{API}/cases/{case['id']}/events", headers=dispatcher).json()["items"]
    dispatched = next(i["data"] for i in items if i["type"] == "CaseDispatched")
    shown = client.get(f"{API}/cases/{case['id']}", headers=dispatcher).json()["tasks"][0]
    for stage in ("sign_by", "contact_by", "reply_by"):
        assert datetime.fromisoformat(shown["deadlines"][stage]) == datetime.fromisoformat(
            dispatched["deadlines"][stage]
        )
