"""Open311 discovery, the service list and service definitions, in JSON and XML."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from open311_conformance import (
    OPEN311,
    SERVICE_FIELDS,
    check_json,
    check_json_errors,
    check_xml_errors,
    check_xml_list,
    parse_xml,
)


def test_discovery_names_the_v2_endpoint_in_both_formats(client: TestClient, sample_catalogue):
    as_json = client.get(f"{OPEN311}/discovery.json")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    check_json("discovery", as_json.json())
    endpoint = as_json.json()["endpoints"][0]
    assert endpoint["url"] == f"http://testserver{OPEN311}"

    as_xml = client.get(f"{OPEN311}/discovery.xml")
    assert as_xml.headers["content-type"].startswith("text/xml")
    root = parse_xml(as_xml.text)
    assert root.tag == "discovery"
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoints = root.find("endpoints")
    assert endpoints is not None
    assert [e.tag for e in endpoints] == ["endpoint"]
    formats = [f.text for f in endpoints.iter("format")]
    assert formats == ["application/json", "text/xml"]


def test_every_category_is_a_service(client: TestClient, sample_catalogue):
    services = client.get(f"{OPEN311}/services.json").json()
    check_json("services", services)
    by_code = {service["service_code"]: service for service in services}
    assert by_code["road.pothole"]["service_name"] == "道路坑洼"
    assert by_code["road.pothole"]["group"] == "road"
    assert by_code["road.pothole"]["metadata"] is False
    assert "7个工作日内答复" in by_code["road.pothole"]["description"]

    items = check_xml_list(
        client.get(f"{OPEN311}/services.xml").text, "services", "service", SERVICE_FIELDS
    )
    assert [item.findtext("service_code") for item in items] == list(by_code)
    assert items[0].findtext("metadata") in ("true", "false")


def test_a_service_with_questions_has_metadata_and_a_definition(client, demo_catalogue):
    services = {s["service_code"]: s for s in client.get(f"{OPEN311}/services.json").json()}
    assert services["water.outage"]["metadata"] is True
    assert services["water.pressure"]["metadata"] is False

    definition = client.get(f"{OPEN311}/services/water.outage.json").json()
    check_json("service-definition", definition)
    scope, since = definition["attributes"]
    assert (scope["code"], scope["datatype"], scope["required"], scope["order"]) == (
        "scope",
        "singlevaluelist",
        True,
        1,
    )
    assert {"key": "building", "name": "整栋楼"} in scope["values"]
    assert (since["datatype"], since["required"], since["values"]) == ("datetime", False, [])

    root = parse_xml(client.get(f"{OPEN311}/services/water.outage.xml").text)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "water.outage"
    attributes = root.find("attributes")
    assert attributes is not None
    assert [a.tag for a in attributes] == ["attribute", "attribute"]
    values = attributes[0].find("values")
    assert values is not None
    assert [v.findtext("key") for v in values] == ["household", "building", "estate"]


def test_a_service_without_questions_has_an_empty_definition(client, sample_catalogue):
    definition = client.get(f"{OPEN311}/services/road.pothole.json").json()
    check_json("service-definition", definition)
    assert definition == {"service_code": "road.pothole", "attributes": []}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_is_404_in_the_format_asked_for(client, sample_catalogue, fmt):
    response = client.get(f"{OPEN311}/services/no.such.thing.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        assert "no.such.thing" in check_json_errors(response.json(), 404)
    else:
        assert "no.such.thing" in check_xml_errors(response.text, 404)
