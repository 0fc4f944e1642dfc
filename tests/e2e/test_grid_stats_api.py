"""GET /api/v1/stats/grids (DESIGN.md §8.7, the grid map): shapes, measures and scope over HTTP.

The session database is shared, so counts are checked as the change one new case makes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from worlds.scenarios import API, COMPLAINT

pytestmark = pytest.mark.usefixtures("sample_catalogue")

SAMPLE_GRIDS = {"XYL-01", "XYL-02", "XYL-03", "CLZ-01", "CLZ-02", "CLZ-03"}


def grid_stats(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get(f"{API}/stats/grids", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def by_grid(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["grid"]: item for item in answer["items"]}


def test_every_catalogue_grid_is_listed_with_its_name_street_and_polygon(client, login) -> None:
    answer = grid_stats(client, login("supervisor"))
    items = by_grid(answer)
    assert set(items) == SAMPLE_GRIDS
    assert answer["total"] == len(SAMPLE_GRIDS) and answer["measure"] == "open"
    assert items["XYL-02"] == {
        "grid": "XYL-02",
        "name": "西一路第2网格",
        "street": "XYL",
        "community": "兴乐社区",
        "value": items["XYL-02"]["value"],
        "has_polygon": True,
    }
    assert all(isinstance(item["value"], int) and item["value"] >= 0 for item in items.values())


def test_a_new_case_in_a_grid_adds_one_open_case_to_that_grid_only(client, login) -> None:
    headers = login("dispatcher")
    before = {code: item["value"] for code, item in by_grid(grid_stats(client, headers)).items()}
    complaint = {**COMPLAINT, "location": {"address": "西一路3号", "grid": "XYL-02"}}
    created = client.post(f"{API}/cases", json=complaint, headers=login("operator"))
    assert created.status_code == 201, created.text

    after = {code: item["value"] for code, item in by_grid(grid_stats(client, headers)).items()}

    assert after["XYL-02"] == before["XYL-02"] + 1
    assert {k: v for k, v in after.items() if k != "XYL-02"} == {
        k: v for k, v in before.items() if k != "XYL-02"
    }


def test_a_street_officer_gets_its_own_streets_grids(client, login) -> None:
    headers = login("street", street="CLZ")
    assert set(by_grid(grid_stats(client, headers))) == {"CLZ-01", "CLZ-02", "CLZ-03"}
    assert set(by_grid(grid_stats(client, headers, street="CLZ"))) == {"CLZ-01", "CLZ-02", "CLZ-03"}


def test_a_street_officer_cannot_ask_for_another_streets_grids(client, login) -> None:
    response = client.get(
        f"{API}/stats/grids", params={"street": "XYL"}, headers=login("street", street="CLZ")
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_supervisor_may_ask_for_one_street_and_for_overdue_tasks(client, login) -> None:
    answer = grid_stats(client, login("supervisor"), street="XYL", measure="overdue")
    assert set(by_grid(answer)) == {"XYL-01", "XYL-02", "XYL-03"}
    assert answer["measure"] == "overdue" and answer["title"] == "超期任务"


def test_an_unknown_measure_is_422_naming_the_field(client, login) -> None:
    response = client.get(
        f"{API}/stats/grids", params={"measure": "weather"}, headers=login("supervisor")
    )
    assert response.status_code == 422
    problem = response.json()
    assert [error["field"] for error in problem["errors"]] == ["measure"]
    assert "open" in problem["detail"] and "overdue" in problem["detail"]


@pytest.mark.parametrize("role", ["operator", "liaison", "admin"])
def test_the_grid_map_is_for_supervisors_dispatchers_and_streets(client, login, role) -> None:
    headers = login(role, **({"department": "water"} if role == "liaison" else {}))
    assert client.get(f"{API}/stats/grids", headers=headers).status_code == 403
