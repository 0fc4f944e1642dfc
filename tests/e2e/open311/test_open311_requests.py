"""POST requests makes a case; GET requests, requests/{id} and tokens/{token} follow it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from open311_conformance import (
    OPEN311,
    REQUEST_FIELDS,
    check_json,
    check_xml_list,
)

API = "/api/v1"
POTHOLE = {
    "service_code": "road.pothole",
    "lat": "34.27",
    "long": "108.952",
    "address_string": "西一路12号",
    "description": "路口有大坑，请尽快修补，我的电话 13800138000",
    "first_name": "丽",
    "last_name": "王",
    "phone": "13800138000",
    "email": "wang@example.com",
}


def scheduler_catches_up(client: TestClient) -> None:
    """What the scheduler's projector does within a second; anonymous GETs never do it."""
    client.app.state.container.projector.catch_up("case_list")  # type: ignore[attr-defined]


def post(client: TestClient, api_key: str, fmt: str = "json", **fields: Any) -> Any:
    response = client.post(f"{OPEN311}/requests.{fmt}", data={"api_key": api_key, **fields})
    assert response.status_code == 201, response.text
    scheduler_catches_up(client)
    return response


def filed(client: TestClient, api_key: str, **fields: Any) -> dict[str, Any]:
    answer = post(client, api_key, **{**POTHOLE, **fields}).json()
    check_json("post-request", answer)
    return answer[0]


def one_request(client: TestClient, service_request_id: str) -> dict[str, Any]:
    response = client.get(f"{OPEN311}/requests/{service_request_id}.json")
    assert response.status_code == 200, response.text
    check_json("requests", response.json())
    return response.json()[0]


@pytest.mark.usefixtures("sample_catalogue")
def test_a_posted_request_becomes_an_open311_case(client, api_key, login, unique):
    created = filed(client, api_key, account_id=f"acct-{unique}")
    assert created["account_id"] == f"acct-{unique}"
    assert created["service_request_id"] in created["service_notice"]

    dispatcher = login("dispatcher")
    case = client.get(f"{API}/cases/{created['token']}", headers=dispatcher).json()
    assert case["case_no"] == created["service_request_id"]
    assert case["channel"] == "open311"
    assert case["category"] == "road.pothole"
    assert case["location"]["grid"] == "XYL-01"
    assert case["reporter"] == {"name": "王丽", "phone": "13800138000", "confidential": False}
    events = client.get(f"{API}/cases/{created['token']}/events", headers=dispatcher).json()
    received = events["items"][0]
    assert received["meta"]["actor"].startswith("open311:city-app-")
    assert received["meta"]["role"] == "open311"


@pytest.mark.usefixtures("sample_catalogue")
def test_a_service_request_shows_the_case_without_the_reporter(client, api_key):
    created = filed(client, api_key)
    request = one_request(client, created["service_request_id"])
    assert request["status"] == "open"
    assert request["status_notes"] == "已派单"
    assert request["service_code"] == "road.pothole"
    assert request["service_name"] == "道路坑洼"
    assert request["agency_responsible"] == "区市政设施管理中心"
    assert request["expected_datetime"] is not None
    assert request["address"] == "西一路12号"
    assert (request["lat"], request["long"]) == (34.27, 108.952)
    assert request["media_url"] == ""
    text = str(request)
    assert "13800138000" not in text and "王丽" not in text
    assert "138****8000" in request["description"]


@pytest.mark.usefixtures("sample_catalogue")
def test_expected_datetime_is_the_lead_tasks_reply_deadline(client, api_key, login):
    created = filed(client, api_key)
    dispatcher = login("dispatcher")
    case = client.get(f"{API}/cases/{created['token']}", headers=dispatcher).json()
    lead = next(task for task in case["tasks"] if task["role"] == "lead")
    request = one_request(client, created["service_request_id"])
    assert datetime.fromisoformat(request["expected_datetime"]) == datetime.fromisoformat(
        lead["deadlines"]["reply_by"]
    )


@pytest.mark.usefixtures("sample_catalogue")
def test_answered_closed_and_merged_cases_are_closed(client, api_key, login):
    operator = login("operator")
    # No coordinates and a category only the street rule takes: it waits for a dispatcher.
    consult = filed(client, api_key, service_code="other.consult", lat="", long="")
    duplicate = filed(client, api_key)
    original = filed(client, api_key)
    waiting = one_request(client, consult["service_request_id"])
    assert (waiting["status"], waiting["status_notes"]) == ("open", "已受理，待人工派单")

    def run(path: str, body: dict[str, Any]) -> None:
        response = client.post(f"{API}{path}", json=body, headers=operator)
        assert response.status_code == 200, response.text
        scheduler_catches_up(client)

    run(f"/cases/{consult['token']}/answer", {"answer": "已告知办理地点和材料"})
    answered = one_request(client, consult["service_request_id"])
    assert (answered["status"], answered["status_notes"]) == ("closed", "已答复")
    run(f"/cases/{consult['token']}/close", {})
    closed = one_request(client, consult["service_request_id"])
    assert (closed["status"], closed["status_notes"]) == ("closed", "已结案")
    run(f"/cases/{duplicate['token']}/merge", {"into": original["token"]})
    merged = one_request(client, duplicate["service_request_id"])
    assert (merged["status"], merged["status_notes"]) == ("closed", "已合并")


@pytest.mark.usefixtures("sample_catalogue")
def test_get_requests_filters_by_id_code_status_and_window(client, api_key):
    first = filed(client, api_key)["service_request_id"]
    second = filed(client, api_key, service_code="water.outage")["service_request_id"]

    both = {"service_request_id": f"{first},{second}"}
    by_id = client.get(f"{OPEN311}/requests.json", params=both)
    check_json("requests", by_id.json())
    assert {r["service_request_id"] for r in by_id.json()} == {first, second}

    water = client.get(f"{OPEN311}/requests.json", params={"service_code": "water.outage"}).json()
    check_json("requests", water)
    assert second in {r["service_request_id"] for r in water}
    assert {r["service_code"] for r in water} == {"water.outage"}

    closed = client.get(f"{OPEN311}/requests.json", params={"status": "closed"}).json()
    check_json("requests", closed)
    assert all(r["status"] == "closed" for r in closed)
    opened = client.get(f"{OPEN311}/requests.json", params={"status": "open,closed"}).json()
    assert first in {r["service_request_id"] for r in opened}

    future = {"start_date": "2099-01-01T00:00:00Z"}
    assert client.get(f"{OPEN311}/requests.json", params=future).json() == []
    old = {"start_date": "2000-01-01T00:00:00+08:00", "end_date": "2000-03-01"}
    assert client.get(f"{OPEN311}/requests.json", params=old).json() == []


@pytest.mark.usefixtures("sample_catalogue")
def test_get_requests_pages_newest_first(client, api_key):
    for _ in range(3):
        filed(client, api_key)
    everything = client.get(f"{OPEN311}/requests.json")
    total = int(everything.headers["X-Total-Count"])
    assert total >= 3
    page = client.get(f"{OPEN311}/requests.json", params={"page": 2, "page_size": 2})
    check_json("requests", page.json())
    assert [r["service_request_id"] for r in page.json()] == [
        r["service_request_id"] for r in everything.json()[2:4]
    ]
    times = [r["requested_datetime"] for r in everything.json()]
    assert times == sorted(times, reverse=True)


@pytest.mark.usefixtures("sample_catalogue")
def test_requests_tokens_and_the_post_answer_in_xml(client, api_key):
    response = post(client, api_key, "xml", **POTHOLE)
    items = check_xml_list(response.text, "service_requests", "request", REQUEST_FIELDS)
    case_no = items[0].findtext("service_request_id")
    token = items[0].findtext("token")
    assert case_no and token

    one = client.get(f"{OPEN311}/requests/{case_no}.xml")
    (request,) = check_xml_list(one.text, "service_requests", "request", REQUEST_FIELDS)
    assert request.findtext("status") == "open"
    assert request.findtext("media_url") == ""  # present, empty
    listed = client.get(f"{OPEN311}/requests.xml", params={"service_request_id": case_no})
    assert len(check_xml_list(listed.text, "service_requests", "request", REQUEST_FIELDS)) == 1

    tokens = client.get(f"{OPEN311}/tokens/{token}.xml")
    (found,) = check_xml_list(tokens.text, "service_requests", "request", REQUEST_FIELDS)
    assert (found.findtext("service_request_id"), found.findtext("token")) == (case_no, token)
    as_json = client.get(f"{OPEN311}/tokens/{token}.json").json()
    check_json("tokens", as_json)
    assert as_json == [{"service_request_id": case_no, "token": token}]


@pytest.mark.usefixtures("demo_catalogue")
def test_answers_to_a_services_questions_join_the_description(client, api_key, login):
    created = filed(
        client,
        api_key,
        service_code="water.outage",
        lat="30.51",
        long="113.305",
        description="一早就没水了",
        **{"attribute[scope]": "building", "attribute[since]": "2026-11-20T07:30:00+08:00"},
    )
    case = client.get(f"{API}/cases/{created['token']}", headers=login("dispatcher")).json()
    assert case["description"].splitlines() == [
        "一早就没水了",
        "停水范围：整栋楼",
        "停水开始时间：2026-11-20T07:30:00+08:00",
    ]
    assert case["location"]["street"] == "QH"


@pytest.mark.usefixtures("sample_catalogue")
def test_the_same_idempotency_key_files_one_case(client, api_key, unique):
    headers = {"Idempotency-Key": f"app-{unique}"}
    data = {"api_key": api_key, **POTHOLE}
    first = client.post(f"{OPEN311}/requests.json", data=data, headers=headers).json()
    again = client.post(f"{OPEN311}/requests.json", data=data, headers=headers).json()
    assert first[0]["service_request_id"] == again[0]["service_request_id"]
