"""Stats, alerts, ledger exports and timelines over HTTP: roles, scope and shapes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from dispatch.bootstrap import Container
from events import EventStore

from worlds.case_story import CaseStory

API = "/api/v1"
HOUR = timedelta(hours=1)


@pytest.fixture
def late_case(app_container: Container, unique: str) -> dict[str, str]:
    """A case whose task was dispatched 3 h ago with a 2 h sign limit and never signed."""
    now = datetime.now(UTC)
    department = f"water-{unique}"
    story = CaseStory(EventStore(app_container.engine), category=f"cat-{unique}")
    story.received(now - 4 * HOUR)
    task = story.dispatched(now - 3 * HOUR, department, sign=2 * HOUR)
    app_container.projector.ensure_tables()
    app_container.projector.catch_up()
    return {"case_id": story.case_id, "task_id": task, "department": department}


def period() -> dict[str, str]:
    """Days are the centre's days (Asia/Shanghai), whatever the machine's timezone is: a
    task dispatched at 16:30 UTC already belongs to tomorrow there."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {
        "from": (today - timedelta(days=2)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }


def test_kpis_per_department(client: TestClient, login, late_case) -> None:
    response = client.get(
        f"{API}/stats/kpis",
        params={"group_by": "department", **period()},
        headers=login("supervisor"),
    )
    assert response.status_code == 200, response.text
    rows = {row["key"]: row for row in response.json()["items"]}
    row = rows[late_case["department"]]
    assert row["dispatched"] == 1
    assert row["sign_rate"] == 0  # due (its deadline passed) and not signed
    assert row["solve_rate"] is None
    assert response.json()["total"] == len(rows)


def test_kpis_as_of_before_the_dispatch_knows_nothing_of_it(client, login, late_case) -> None:
    as_of = (datetime.now(UTC) - 3.5 * HOUR).isoformat()
    response = client.get(
        f"{API}/stats/kpis", params={"as_of": as_of, **period()}, headers=login("dispatcher")
    )
    assert response.status_code == 200, response.text
    assert late_case["department"] not in {row["key"] for row in response.json()["items"]}


@pytest.mark.parametrize("role", ["operator", "street", "liaison", "admin"])
def test_kpis_are_for_supervisors_and_dispatchers(client, login, role) -> None:
    bound = {"street": {"street": "XYL"}, "liaison": {"department": "water"}}
    headers = login(role, **bound.get(role, {}))
    response = client.get(f"{API}/stats/kpis", headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_kpis_refuse_a_bad_period(client, login) -> None:
    headers = login("supervisor")
    bad_date = client.get(f"{API}/stats/kpis", params={"from": "11/01/2026"}, headers=headers)
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"][0]["field"] == "from"
    reversed_period = {"from": "2026-11-30", "to": "2026-11-01"}
    assert (
        client.get(f"{API}/stats/kpis", params=reversed_period, headers=headers).status_code == 422
    )
    bad_group = client.get(f"{API}/stats/kpis", params={"group_by": "moon"}, headers=headers)
    assert bad_group.status_code == 422


def test_ranking_lists_top_and_bottom(client, login, late_case) -> None:
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    response = client.get(
        f"{API}/stats/ranking", params={"month": month}, headers=login("supervisor")
    )
    assert response.status_code == 200, response.text
    board = response.json()
    assert set(board) >= {"top", "bottom", "rows"}
    assert len(board["top"]) <= 5 and len(board["bottom"]) <= 5
    wrong = client.get(
        f"{API}/stats/ranking", params={"month": "2026-13"}, headers=login("supervisor")
    )
    assert wrong.status_code == 422


def test_overdue_alerts_for_supervisors_and_the_own_liaison(client, login, late_case) -> None:
    department = late_case["department"]
    supervisor = client.get(
        f"{API}/alerts/overdue", params={"department": department}, headers=login("supervisor")
    )
    assert supervisor.status_code == 200, supervisor.text
    [alert] = [a for a in supervisor.json()["items"] if a["stage"] == "sign"]
    assert (alert["task_id"], alert["level"]) == (late_case["task_id"], "red")
    assert alert["overdue_by_seconds"] >= 3600 - 60
    assert datetime.fromisoformat(alert["deadline"]).tzinfo is not None

    own = client.get(f"{API}/alerts/overdue", headers=login("liaison", department=department))
    assert {a["department"] for a in own.json()["items"]} == {department}

    other = login("liaison", department=f"other-{department}")
    assert client.get(f"{API}/alerts/overdue", headers=other).json()["items"] == []
    asked = client.get(f"{API}/alerts/overdue", params={"department": department}, headers=other)
    assert asked.status_code == 403
    assert client.get(f"{API}/alerts/overdue", headers=login("operator")).status_code == 403


def test_the_ledger_is_for_supervisors(client, login, late_case) -> None:
    headers = login("supervisor")
    csv = client.get(f"{API}/exports/cases.csv", params=period(), headers=headers)
    assert csv.status_code == 200, csv.text
    assert csv.content.startswith("\ufeff工单编号".encode())
    assert "attachment" in csv.headers["content-disposition"]

    xlsx = client.get(f"{API}/exports/cases.xlsx", params=period(), headers=headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True)["台账"]
    assert next(sheet.iter_rows(values_only=True))[0] == "工单编号"

    for role in ("dispatcher", "operator"):
        assert client.get(f"{API}/exports/cases.csv", headers=login(role)).status_code == 403
    liaison = login("liaison", department=late_case["department"])
    assert client.get(f"{API}/exports/cases.xlsx", headers=liaison).status_code == 403
    assert client.get(f"{API}/exports/cases.csv").status_code == 401


def test_the_timeline_is_for_anyone_in_scope(client, login, late_case) -> None:
    url = f"{API}/cases/{late_case['case_id']}/timeline"
    response = client.get(url, headers=login("dispatcher"))
    assert response.status_code == 200, response.text
    timeline = response.json()
    assert [s["stage"] for s in timeline["stages"]] == ["received", "dispatched"]
    assert timeline["stages"][-1]["ongoing"] is True
    assert timeline["hops"] == 1
    assert [h["holder"] for h in timeline["holders"]] == ["centre", late_case["department"]]

    own = login("liaison", department=late_case["department"])
    assert client.get(url, headers=own).status_code == 200
    stranger = login("liaison", department=f"other-{late_case['department']}")
    assert client.get(url, headers=stranger).status_code == 403
    missing = client.get(f"{API}/cases/no-such-case/timeline", headers=login("supervisor"))
    assert missing.status_code == 404
