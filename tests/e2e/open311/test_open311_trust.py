"""What Open311's keyless GETs publish: Open311-filed cases only, phone numbers masked.

A hotline case holds a caller's home address and what they told an operator in confidence;
anyone may read Open311, so such a case is not there at all, not even by its number.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from open311_conformance import OPEN311

from dispatch.bootstrap import Container

API = "/api/v1"
HOME = "青禾路88号3单元502"
PHONE_FORMS = (
    "+8613800138000",
    "+86 138 0013 8000",
    "138-0013-8000",
    "138 0013 8000",
    "13800138000",
    "010-12345678",
    "(0571) 8765 4321",
)
DIGITS = ("13800138000", "12345678", "87654321", "00138000")


def file_by_phone(client: TestClient, operator: dict[str, str]) -> dict[str, Any]:
    body = {
        "channel": "phone",
        "category": "road.pothole",
        "description": "来电：家门口的坑，回电 13900139000",
        "urgency": "normal",
        "location": {"address": HOME, "lat": 34.27, "lon": 108.952},
        "reporter": {"name": "李先生", "phone": "13900139000"},
    }
    response = client.post(f"{API}/cases", json=body, headers=operator)
    assert response.status_code == 201, response.text
    return response.json()


def file_by_open311(client: TestClient, api_key: str, description: str) -> dict[str, Any]:
    form = {
        "api_key": api_key,
        "service_code": "road.pothole",
        "lat": "34.27",
        "long": "108.952",
        "address_string": "西一路12号",
        "description": description,
    }
    response = client.post(f"{OPEN311}/requests.json", data=form)
    assert response.status_code == 201, response.text
    return response.json()[0]


@pytest.mark.usefixtures("sample_catalogue")
def test_open311_list_holds_an_open311_case_but_not_a_phone_case_filed_the_same_minute(
    client: TestClient, api_key: str, login: Any, app_container: Container
):
    by_phone = file_by_phone(client, login("operator"))
    by_app = file_by_open311(client, api_key, "路面塌了一块")
    app_container.projector.catch_up("case_list")

    listed = client.get(f"{OPEN311}/requests.json")
    numbers = {item["service_request_id"] for item in listed.json()}
    assert by_app["service_request_id"] in numbers
    assert by_phone["case_no"] not in numbers
    assert HOME not in listed.text and "来电" not in listed.text
    as_xml = client.get(f"{OPEN311}/requests.xml")
    assert HOME not in as_xml.text and by_phone["case_no"] not in as_xml.text

    asked = {"service_request_id": f"{by_phone['case_no']},{by_app['service_request_id']}"}
    by_number = client.get(f"{OPEN311}/requests.json", params=asked).json()
    assert [item["service_request_id"] for item in by_number] == [by_app["service_request_id"]]
    for fmt in ("json", "xml"):
        one = client.get(f"{OPEN311}/requests/{by_phone['case_no']}.{fmt}")
        assert one.status_code == 404 and HOME not in one.text
        token = client.get(f"{OPEN311}/tokens/{by_phone['id']}.{fmt}")
        assert token.status_code == 404 and by_phone["case_no"] not in token.text


@pytest.mark.usefixtures("sample_catalogue")
def test_no_phone_number_in_any_form_appears_in_public_output(
    client: TestClient, api_key: str, app_container: Container
):
    description = "坑很深。联系：" + "；".join(PHONE_FORMS)
    created = file_by_open311(client, api_key, description)
    app_container.projector.catch_up("case_list")

    number = created["service_request_id"]
    answers = [
        client.get(f"{OPEN311}/requests.json"),
        client.get(f"{OPEN311}/requests.xml"),
        client.get(f"{OPEN311}/requests/{number}.json"),
        client.get(f"{OPEN311}/requests/{number}.xml"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert number in answer.text
        for form in PHONE_FORMS:
            assert form not in answer.text
    shown = answers[2].json()[0]["description"]
    for digits in DIGITS:
        assert digits not in re.sub(r"\D", "", shown), shown
    assert shown.startswith("坑很深。联系：138****8000；138****8000")


@pytest.mark.usefixtures("sample_catalogue")
def test_open311_refuses_a_file_that_is_not_the_one_media_upload(client: TestClient, api_key: str):
    form = {"api_key": api_key, "service_code": "road.pothole", "address_string": "西一路12号"}
    files = {"photo": ("photo.jpg", b"\xff\xd8" + b"0" * 1000, "image/jpeg")}
    response = client.post(f"{OPEN311}/requests.json", data=form, files=files)
    assert response.status_code == 400
    assert "media" in response.json()[0]["description"]


def test_open311_checks_a_query_key_before_it_reads_the_body(client: TestClient):
    garbage = b"--no-boundary-here\r\n" * 1000
    headers = {"Content-Type": "multipart/form-data; boundary=zzz"}
    response = client.post(
        f"{OPEN311}/requests.json", params={"api_key": "wrong"}, content=garbage, headers=headers
    )
    assert response.status_code == 403
    assert "api_key" in response.json()[0]["description"]
