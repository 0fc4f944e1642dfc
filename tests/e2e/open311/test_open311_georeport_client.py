"""An independent client — ``georeport`` from PyPI — against a real server on a local port.

``georeport`` 0.3.1 reads only (services, a service definition, requests, one request); it
has no method to POST a request, so the two requests it reads are filed with plain httpx.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from georeport import GeoReport
from open311_conformance import OPEN311

from dispatch.app import create_app
from dispatch.bootstrap import Container


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server_url(app_container: Container, sample_catalogue: int) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(app_container), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="open311-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}{OPEN311}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def file_request(base: str, api_key: str, service_code: str) -> str:
    form = {
        "api_key": api_key,
        "service_code": service_code,
        "lat": "34.27",
        "long": "108.957",
        "description": "小区门口情况需要处理",
    }
    response = httpx.post(f"{base}/requests.json", data=form, timeout=10)
    assert response.status_code == 201, response.text
    return str(response.json()[0]["service_request_id"])


def test_the_georeport_client_reads_what_we_serve_in_json(
    server_url: str, api_key: str, app_container: Container
):
    first = file_request(server_url, api_key, "road.pothole")
    second = file_request(server_url, api_key, "water.outage")
    app_container.projector.catch_up("case_list")  # the scheduler's work; GETs never do it
    client = GeoReport(server_url, jurisdiction="xincheng", api_key=api_key)

    codes = [service["service_code"] for service in client.get_service_list()]
    assert {"road.pothole", "water.outage"} <= set(codes)
    definition = client.get_service_definition("road.pothole")
    assert definition == {"service_code": "road.pothole", "attributes": []}

    both = client.get_service_requests(service_request_id=f"{first},{second}")
    assert {request["service_request_id"] for request in both} == {first, second}
    recent = client.get_service_requests(service_code="water.outage", status="open")
    assert second in {request["service_request_id"] for request in recent}

    one = client.get_service_request(first)
    assert (one["service_request_id"], one["status"]) == (first, "open")
    assert one["agency_responsible"] == "区市政设施管理中心"


def test_the_georeport_client_reads_what_we_serve_in_xml(
    server_url: str, api_key: str, app_container: Container
):
    first = file_request(server_url, api_key, "road.pothole")
    second = file_request(server_url, api_key, "road.streetlight")
    app_container.projector.catch_up("case_list")
    client = GeoReport(server_url, output_format="xml")

    services = client.get_service_list()
    pothole = next(s for s in services if s["service_code"] == "road.pothole")
    assert (pothole["service_name"], pothole["metadata"], pothole["type"]) == (
        "道路坑洼",
        "false",
        "realtime",
    )
    definition = client.get_service_definition("road.pothole")
    assert definition["service_code"] == "road.pothole"

    both = client.get_service_requests(service_request_id=f"{first},{second}")
    assert {request["service_request_id"] for request in both} == {first, second}
    one = client.get_service_request(second)
    assert (one["service_request_id"], one["status"], one["service_code"]) == (
        second,
        "open",
        "road.streetlight",
    )
    assert one["lat"] == "34.27"
