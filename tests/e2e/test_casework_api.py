"""§8.2/§8.5 over HTTP: intake's nature, 保密 and 直接答复; Idempotency-Key reuse; recall;
merged callers on the target; the close override; nature as a KPI dimension."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"

pytestmark = pytest.mark.usefixtures("sample_catalogue")

COMPLAINT = {
    "channel": "phone",
    "category": "road.pothole",
    "description": "西一路与东七路交叉口有大坑",
    "urgency": "normal",
    "location": {"address": "西一路12号", "lat": 34.27, "lon": 108.952},
    "reporter": {"name": "王女士", "phone": "13800138000"},
}


def file(client: TestClient, headers: dict[str, str], **changes: object) -> dict:
    response = client.post(f"{API}/cases", json={**COMPLAINT, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def case_of(client: TestClient, case_id: str, headers: dict[str, str]) -> dict:
    response = client.get(f"{API}/cases/{case_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_intake_shows_the_nature_and_the_confidential_reporter(client, login):
    operator = login("operator")
    filed = file(
        client,
        operator,
        nature="report",
        reporter={"name": "匿名", "phone": "13800138000", "confidential": True},
    )

    case = case_of(client, filed["id"], operator)
    assert case["nature"] == "report"
    assert case["reporter"]["confidential"] is True

    listed = client.get(f"{API}/cases", params={"nature": "report"}, headers=operator).json()
    assert filed["id"] in [item["id"] for item in listed["items"]]
    others = client.get(f"{API}/cases", params={"nature": "consult"}, headers=operator).json()
    assert filed["id"] not in [item["id"] for item in others["items"]]
    assert (
        client.get(f"{API}/cases", params={"nature": "gossip"}, headers=operator).status_code == 422
    )


def test_an_answer_at_intake_is_answered_and_never_dispatched(client, login):
    operator = login("operator")
    dispatcher = login("dispatcher")

    filed = file(client, operator, nature="consult", answer="已告知停水安排")

    assert filed["status"] == "answered"
    types = [
        item["type"]
        for item in client.get(f"{API}/cases/{filed['id']}/events", headers=dispatcher).json()[
            "items"
        ]
    ]
    assert types == ["CaseReceived", "CaseAnswered"]


def test_an_idempotency_key_reused_with_another_body_is_422_with_its_code(client, login):
    operator = login("operator")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    headers = {**operator, **key}
    first = client.post(f"{API}/cases", json=COMPLAINT, headers=headers)
    same = client.post(f"{API}/cases", json=COMPLAINT, headers=headers)
    other = client.post(
        f"{API}/cases", json={**COMPLAINT, "description": "另一处坑"}, headers=headers
    )

    assert first.status_code == 201 and same.json()["id"] == first.json()["id"]
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency_key_reused"


def test_a_target_lists_its_merged_callers_and_its_callback_covers_them(client, login):
    operator = login("operator")
    target = file(client, operator)
    duplicate = file(client, operator, channel="wechat")

    merged = client.post(
        f"{API}/cases/{duplicate['id']}/merge", json={"into": target["id"]}, headers=operator
    )
    assert merged.status_code == 200, merged.text

    callers = case_of(client, target["id"], operator)["callers"]
    assert [(c["case_no"], c["channel"]) for c in callers] == [(duplicate["case_no"], "wechat")]
    pointer = case_of(client, duplicate["id"], operator)["callback_by_target"]
    assert pointer["case_no"] == target["case_no"]

    back = client.post(
        f"{API}/cases/{target['id']}/merge", json={"into": duplicate["id"]}, headers=operator
    )
    assert back.status_code == 409
    assert back.json()["code"] == "merge_target_merged"


def test_a_dispatcher_recalls_unsigned_tasks_and_the_case_waits_for_dispatch(client, login):
    operator = login("operator")
    dispatcher = login("dispatcher")
    filed = file(client, operator)
    dispatched = client.post(
        f"{API}/cases/{filed['id']}/dispatch",
        json={"departments": [{"code": "roads", "role": "lead"}]},
        headers=dispatcher,
    )
    assert dispatched.status_code == 200, dispatched.text

    recalled = client.post(
        f"{API}/cases/{filed['id']}/recall", json={"reason": "派错部门"}, headers=dispatcher
    )

    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["status"] == "received"
    case = case_of(client, filed["id"], dispatcher)
    assert case["status"] == "received" and case["open_tasks"] == 0
    again = client.post(f"{API}/cases/{filed['id']}/recall", json={}, headers=dispatcher)
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_recall"


def test_kpis_group_by_nature(client, login):
    operator = login("operator")
    supervisor = login("supervisor")
    file(client, operator, nature="suggestion")

    response = client.get(f"{API}/stats/kpis", params={"group_by": "nature"}, headers=supervisor)

    assert response.status_code == 200, response.text
    natures = {"consult", "help", "complaint", "report", "suggestion", None}
    assert {row["key"] for row in response.json()["items"]} <= natures


def test_a_case_merged_with_its_callers_brings_them_to_the_new_target(client, login):
    operator = login("operator")
    first = file(client, operator, channel="wechat")  # the first call, merged into the second
    second = file(client, operator, channel="web")
    third = file(client, operator)
    merge = f"{API}/cases/{{}}/merge"
    into_second = client.post(
        merge.format(first["id"]), json={"into": second["id"]}, headers=operator
    )
    assert into_second.status_code == 200, into_second.text

    into_third = client.post(
        merge.format(second["id"]), json={"into": third["id"]}, headers=operator
    )

    assert into_third.status_code == 200, into_third.text
    callers = case_of(client, third["id"], operator)["callers"]
    assert [(c["case_no"], c["channel"]) for c in callers] == [
        (first["case_no"], "wechat"),
        (second["case_no"], "web"),
    ]
    pointer = case_of(client, first["id"], operator)["callback_by_target"]
    assert pointer["case_no"] == third["case_no"]  # the end of the chain calls it back
