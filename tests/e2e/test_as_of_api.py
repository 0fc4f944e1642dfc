"""``as_of`` on the ranking and the overdue alerts (§8.5): the answer as the log stood then."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from worlds.scenarios import API, Login, Scenes, assert_problem, expect_ok

pytestmark = pytest.mark.usefixtures("sample_catalogue")

LONG_AGO = "2000-01-01T00:00:00+08:00"


def test_ranking_as_of_a_moment_before_any_case_ranks_nobody(
    client: TestClient, login: Login, app_container
) -> None:
    Scenes(client, login, app_container).dispatched_case()
    supervisor = login("supervisor")
    month = app_container.clock().strftime("%Y-%m")
    now = expect_ok(client.get(f"{API}/stats/ranking", params={"month": month}, headers=supervisor))
    past = expect_ok(
        client.get(
            f"{API}/stats/ranking", params={"month": month, "as_of": LONG_AGO}, headers=supervisor
        )
    )
    assert now["rows"] and past["rows"] == [] and past["as_of"].startswith("2000-01-01")


def test_overdue_alerts_as_of_a_moment_before_any_case_are_empty(
    client: TestClient, login: Login
) -> None:
    answer = expect_ok(
        client.get(f"{API}/alerts/overdue", params={"as_of": LONG_AGO}, headers=login("supervisor"))
    )
    assert answer["items"] == [] and answer["total"] == 0


@pytest.mark.parametrize("path", ["/stats/ranking", "/alerts/overdue"])
def test_an_as_of_that_is_not_a_time_is_422(client: TestClient, login: Login, path: str) -> None:
    response = client.get(
        f"{API}{path}", params={"as_of": "yesterday"}, headers=login("dispatcher")
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "as_of"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_as_of_that_is_not_a_time_is_422(
    client: TestClient, login: Login, kind: str
) -> None:
    response = client.get(
        f"{API}/exports/cases.{kind}", params={"as_of": "yesterday"}, headers=login("supervisor")
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "as_of"


def test_an_export_as_of_a_moment_before_any_case_holds_only_the_headers(
    client: TestClient, login: Login, app_container
) -> None:
    scene = Scenes(client, login, app_container).dispatched_case()
    supervisor = login("supervisor")
    case = expect_ok(client.get(f"{API}/cases/{scene.case_id}", headers=supervisor))
    now = client.get(f"{API}/exports/cases.csv", headers=supervisor)
    past = client.get(f"{API}/exports/cases.csv", params={"as_of": LONG_AGO}, headers=supervisor)
    assert now.status_code == past.status_code == 200, past.text
    assert case["case_no"] in now.text
    assert past.content.decode("utf-8-sig").strip().splitlines() == [
        now.content.decode("utf-8-sig").splitlines()[0]
    ]
