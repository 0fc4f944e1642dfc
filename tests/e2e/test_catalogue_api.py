"""The catalogue over HTTP: read by anyone signed in, loaded by admins, routing explained."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

Login = Callable[..., Any]  # the ``login`` fixture of tests/e2e/conftest.py

SAMPLE = Path(__file__).parents[2] / "dispatch" / "catalogue" / "samples" / "sample.yaml"
PROBLEM = "application/problem+json"
YAML = {"Content-Type": "application/yaml"}


def sample(label: str) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    return text.replace('version: "2026-11-sample"', f'version: "{label}"')


def test_an_admin_loads_yaml_and_everyone_reads_it_without_secrets(
    client: TestClient, login: Login, unique: str
) -> None:
    admin = login("admin")
    loaded = client.put("/api/v1/catalogue", content=sample(f"y-{unique}"), headers=admin | YAML)
    assert loaded.status_code == 200, loaded.text
    body = loaded.json()
    assert body["version"] == f"y-{unique}" and isinstance(body["warnings"], list)
    current = client.get("/api/v1/catalogue", headers=login("liaison", department="water"))
    assert current.status_code == 200
    assert current.json()["number"] == body["number"]
    departments = {d["code"]: d for d in current.json()["catalogue"]["departments"]}
    assert departments["city"]["delivery"] == {"type": "webhook"}
    assert "demo-webhook-secret" not in current.text and "cgzf.example" not in current.text
    as_admin = client.get("/api/v1/catalogue", headers=admin).json()["catalogue"]
    city = next(d for d in as_admin["departments"] if d["code"] == "city")
    assert city["delivery"]["url"] == "https://cgzf.example.gov.cn/api/12345/tasks"
    assert city["delivery"]["secret"] == "********"
    versions = client.get("/api/v1/catalogue/versions", headers=login("supervisor")).json()
    assert versions["items"][0]["number"] == body["number"] and versions["items"][0]["active"]


def test_an_admin_loads_json(client: TestClient, login: Login, unique: str) -> None:
    data = yaml.safe_load(sample(f"j-{unique}"))
    loaded = client.put("/api/v1/catalogue", json=data, headers=login("admin"))
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["version"] == f"j-{unique}"


def test_an_invalid_catalogue_is_422_naming_the_fields_and_changes_nothing(
    client: TestClient, login: Login, unique: str
) -> None:
    admin = login("admin")
    good = client.put("/api/v1/catalogue", content=sample(f"ok-{unique}"), headers=admin | YAML)
    before = good.json()["number"]
    broken = sample(f"bad-{unique}").replace("lead: water}", "lead: waterworks}")
    broken = broken.replace("reply: 7wd", "reply: 7 days")
    response = client.put("/api/v1/catalogue", content=broken, headers=admin | YAML)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"routing.0.lead", "sla.general.reply"}
    assert all(error["line"] for error in problem["errors"])
    assert "routing.0.lead" in problem["detail"]
    assert client.get("/api/v1/catalogue", headers=admin).json()["number"] == before


def test_only_admins_load_catalogues(client: TestClient, login: Login) -> None:
    text = sample("never")
    assert client.put("/api/v1/catalogue", content=text, headers=YAML).status_code == 401
    for role in ("operator", "dispatcher", "supervisor"):
        response = client.put("/api/v1/catalogue", content=text, headers=login(role) | YAML)
        assert response.status_code == 403, role
    assert client.get("/api/v1/catalogue").status_code == 401


def test_a_catalogue_in_another_format_is_415(client: TestClient, login: Login) -> None:
    headers = login("admin") | {"Content-Type": "text/plain"}
    response = client.put("/api/v1/catalogue", content=sample("x"), headers=headers)
    assert response.status_code == 415
    garbage = client.put("/api/v1/catalogue", content=b"\xff\xfe{", headers=login("admin") | YAML)
    assert garbage.status_code == 422


def test_a_dispatcher_sees_why_a_case_goes_where_it_goes(
    client: TestClient, login: Login, unique: str
) -> None:
    client.put("/api/v1/catalogue", content=sample(f"r-{unique}"), headers=login("admin") | YAML)
    dispatcher = login("dispatcher")
    response = client.get(
        "/api/v1/catalogue/route",
        params={"category": "city.stall", "lat": 34.27, "lon": 108.975},
        headers=dispatcher,
    )
    assert response.status_code == 200, response.text
    found = response.json()
    assert (found["grid"], found["street"], found["rule_id"]) == ("CLZ-02", "CLZ", "R-city-clz")
    assert found["lead"] == "city" and found["assist"] == ["clz-office"]
    assert [c["id"] for c in found["candidates"]][-1] == "R-city-clz"
    unroutable = client.get(
        "/api/v1/catalogue/route", params={"category": "other.consult"}, headers=dispatcher
    ).json()
    assert unroutable["routable"] is False and unroutable["lead"] is None
    json.dumps(unroutable)


def test_route_explanations_check_their_input_and_role(client: TestClient, login: Login) -> None:
    half = client.get(
        "/api/v1/catalogue/route",
        params={"category": "road.pothole", "lat": 34.27},
        headers=login("dispatcher"),
    )
    assert half.status_code == 422 and half.json()["errors"][0]["field"] == "lon"
    for lat in ("134.27", "nan", "inf", "north"):
        odd = client.get(
            "/api/v1/catalogue/route",
            params={"category": "road.pothole", "lat": lat, "lon": 108.9},
            headers=login("dispatcher"),
        )
        assert odd.status_code == 422, lat
    operator = client.get(
        "/api/v1/catalogue/route", params={"category": "road.pothole"}, headers=login("operator")
    )
    assert operator.status_code == 403
