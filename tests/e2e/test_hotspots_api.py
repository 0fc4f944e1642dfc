"""主动治理 over HTTP (DESIGN.md §8.7): GET /stats/hotspots finds repeated complaints of one
kind in one grid, by hand count; a street sees its own grids only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from module_app import app_container, client, people, scenes, signed_in  # noqa: F401

from dispatch.bootstrap import Container
from events import EventStore

from worlds.case_story import CaseStory
from worlds.scenarios import API, OTHER_STREET, STREET, Login, assert_problem, expect_ok

pytestmark = pytest.mark.usefixtures("sample_catalogue")
HOUR = timedelta(hours=1)


def file_cases(
    container: Container, category: str, grid: str, street: str, count: int
) -> list[str]:
    """``count`` cases of ``category`` in ``grid``, received over the last hours."""
    numbers = []
    now = datetime.now(UTC)
    for n in range(count):
        story = CaseStory(EventStore(container.engine), category=category, grid=grid, street=street)
        story.received(now - (n + 1) * HOUR)
        numbers.append(story.case_no)
    return numbers


def listed(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get(f"{API}/stats/hotspots", params=params, headers=headers)
    return expect_ok(answer)["items"]


def test_hotspots_match_a_hand_count(
    client: TestClient, people: Login, app_container: Container, unique: str
) -> None:
    hot = f"road.hot-{unique}"
    cool = f"road.cool-{unique}"
    five = file_cases(app_container, hot, "XYL-01", STREET, 5)
    file_cases(app_container, cool, "XYL-01", STREET, 4)  # under the threshold
    file_cases(app_container, hot, "XYL-02", STREET, 2)  # the same kind, another grid
    merged = CaseStory(EventStore(app_container.engine), category=hot, grid="XYL-01", street=STREET)
    merged.received(datetime.now(UTC) - HOUR).merged(datetime.now(UTC))  # a duplicate: left out
    app_container.projector.ensure_tables()

    items = listed(client, people("supervisor"), min_cases="5")

    mine = [item for item in items if item["category"] in (hot, cool)]
    assert [(item["grid"], item["category"], item["count"]) for item in mine] == [
        ("XYL-01", hot, 5)
    ]
    assert sorted(mine[0]["cases"]) == sorted(five)
    assert mine[0]["first"] <= mine[0]["last"]
    lower = listed(client, people("dispatcher"), min_cases="2")
    assert {(i["grid"], i["count"]) for i in lower if i["category"] == hot} == {
        ("XYL-01", 5),
        ("XYL-02", 2),
    }


def test_a_street_sees_only_its_own_grids_hotspots(
    client: TestClient, people: Login, app_container: Container, unique: str
) -> None:
    category = f"env.noise-{unique}"
    file_cases(app_container, category, "XYL-01", STREET, 3)

    own = listed(client, people("street", street=STREET), min_cases="3")
    other = listed(client, people("street", street=OTHER_STREET), min_cases="3")

    assert category in {item["category"] for item in own}
    assert category not in {item["category"] for item in other}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"to": "2026-13-01"},
        {"from": "2026-11-10", "to": "2026-11-01"},
        {"min_cases": "1"},
        {"min_cases": "many"},
        {"group_by": "moon"},
    ],
)
def test_bad_hotspot_parameters_are_422(
    client: TestClient, people: Login, params: dict[str, str]
) -> None:
    refused = client.get(f"{API}/stats/hotspots", params=params, headers=people("supervisor"))

    assert_problem(refused, 422)
