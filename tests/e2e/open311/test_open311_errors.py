"""Open311 errors are the spec's ``[{code, description}]`` with 400, 403, 404 or 405 — in the
format the resource asked for, never problem+json, never FastAPI's 422, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from open311_conformance import OPEN311, check_json_errors, check_xml_errors

from dispatch.auth.apikeys import add_api_key, revoke_api_keys

GOOD = {"service_code": "road.pothole", "lat": "34.27", "long": "108.952"}


def refused(response: Any, status: int, fmt: str = "json") -> str:
    assert response.status_code == status, response.text
    if fmt == "xml":
        assert response.headers["content-type"].startswith("text/xml")
        return check_xml_errors(response.text, status)
    assert response.headers["content-type"].startswith("application/json")
    return check_json_errors(response.json(), status)


@pytest.mark.usefixtures("sample_catalogue")
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_without_a_valid_api_key_is_403(client, api_key, app_container, fmt, unique):
    url = f"{OPEN311}/requests.{fmt}"
    assert "api_key" in refused(client.post(url, data=GOOD), 403, fmt)
    assert "not valid" in refused(client.post(url, data={**GOOD, "api_key": "sw_x"}), 403, fmt)
    with app_container.engine.begin() as conn:
        name = f"revoked-{unique}"
        key = add_api_key(conn, name)
        revoke_api_keys(conn, name)
    refused(client.post(url, data={**GOOD, "api_key": key}), 403, fmt)


@pytest.mark.usefixtures("sample_catalogue")
@pytest.mark.parametrize(
    ("fields", "mentions"),
    [
        ({"service_code": ""}, "service_code"),
        ({"service_code": "no.such"}, "no.such"),
        ({"lat": "", "long": ""}, "location"),
        ({"long": ""}, "lat and long"),
        ({"lat": "north"}, "lat"),
        ({"lat": "100"}, "lat"),
        ({"long": "nan"}, "long"),
        ({"description": "x" * 4001}, "description"),
        ({"description": "bad\x00text"}, "description"),
        ({"phone": "call me"}, "phone"),
        ({"first_name": "x" * 26}, "first_name"),
        ({"attribute[colour]": "red"}, "colour"),
    ],
)
def test_a_malformed_request_is_400_naming_the_field(client, api_key, fields, mentions):
    response = client.post(f"{OPEN311}/requests.json", data={"api_key": api_key, **GOOD, **fields})
    assert mentions in refused(response, 400)


@pytest.mark.usefixtures("demo_catalogue")
@pytest.mark.parametrize(
    ("answers", "mentions"),
    [
        ({}, "attribute[scope] is required"),
        ({"attribute[scope]": "street"}, "not one of the keys"),
        ({"attribute[scope][]": ["household", "building"]}, "takes one value"),
        ({"attribute[scope]": "household", "attribute[since]": "yesterday"}, "ISO 8601"),
    ],
)
def test_answers_must_fit_the_services_questions(client, api_key, answers, mentions):
    data = {"api_key": api_key, "service_code": "water.outage", "address_string": "青禾路1号"}
    response = client.post(f"{OPEN311}/requests.json", data={**data, **answers})
    assert mentions in refused(response, 400)


def test_a_json_body_is_not_a_form(client, api_key, sample_catalogue):
    response = client.post(f"{OPEN311}/requests.json", json={"api_key": api_key, **GOOD})
    refused(response, 403)


@pytest.mark.usefixtures("sample_catalogue")
@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ({"start_date": "last week"}, "start_date"),
        ({"end_date": "2026-13-01"}, "end_date"),
        ({"start_date": "2026-03-01", "end_date": "2026-01-01"}, "before"),
        ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "90 days"),
        ({"status": "pending"}, "status"),
        ({"page": "0"}, "page"),
        ({"page": "²"}, "page"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "9" * 5000}, "page_size"),
        ({"service_code": "a\x01b"}, "service_code"),
    ],
)
def test_bad_filters_are_400(client, query, mentions):
    assert mentions in refused(client.get(f"{OPEN311}/requests.json", params=query), 400)


@pytest.mark.usefixtures("sample_catalogue")
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/requests/19990101-00001.json", 404),
        ("GET", "/requests/19990101-00001.xml", 404),
        ("GET", "/tokens/nope.json", 404),
        ("GET", "/tokens/nope.xml", 404),
        ("GET", "/services.html", 404),
        ("GET", "/services", 404),
        ("GET", "/nothing/here.xml", 404),
        ("GET", "/requests/%00.json", 400),
        ("DELETE", "/requests.json", 405),
        ("POST", "/services.xml", 405),
    ],
)
def test_unknown_resources_and_methods(client, method, path, status):
    fmt = "xml" if path.endswith(".xml") else "json"
    refused(client.request(method, f"{OPEN311}{path}"), status, fmt)


def test_jurisdiction_id_is_accepted_and_ignored(client, sample_catalogue):
    response = client.get(f"{OPEN311}/services.json", params={"jurisdiction_id": "qinghe"})
    assert response.status_code == 200


TEXT = st.text(max_size=40)
FILTERS = [
    "service_request_id", "service_code", "start_date", "end_date", "status", "page",
    "page_size", "jurisdiction_id",
]  # fmt: skip
FIELDS = [
    "service_code", "lat", "long", "address_string", "address_id", "description",
    "first_name", "last_name", "phone", "attribute[x]", "account_id",
]  # fmt: skip


@pytest.mark.usefixtures("sample_catalogue")
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=st.dictionaries(st.sampled_from(FILTERS), TEXT, max_size=4))
def test_no_query_makes_get_requests_fail(client: TestClient, query: dict[str, str]):
    response = client.get(f"{OPEN311}/requests.xml", params=query)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        check_xml_errors(response.text, 400)


@pytest.mark.usefixtures("sample_catalogue")
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(form=st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=6))
def test_no_form_makes_post_requests_fail(client: TestClient, api_key: str, form: dict[str, str]):
    response = client.post(f"{OPEN311}/requests.json", data={**form, "api_key": api_key})
    assert response.status_code in (201, 400), response.text
