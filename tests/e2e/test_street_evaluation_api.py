"""双考核 over HTTP (DESIGN.md §8.7): the street that blew the whistle rates the summoned
department's reply, once; the rating shows in the KPI rows as ``street_rating``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from module_app import app_container, client, people, scenes, signed_in  # noqa: F401

from dispatch.bootstrap import Container
from events import EventStore

from worlds.case_story import CaseStory
from worlds.scenarios import API, OTHER_STREET, STREET, Login, Scenes, assert_problem, expect_ok

pytestmark = pytest.mark.usefixtures("sample_catalogue")
HOUR = timedelta(hours=1)
RATING = {"rating": "basic", "note": "报到及时，处置偏慢"}


def evaluate(client: TestClient, task_id: str, headers: dict[str, str], body: Any = None) -> Any:
    return client.post(f"{API}/tasks/{task_id}/evaluation", json=body or RATING, headers=headers)


def test_the_summoning_street_rates_a_replied_summoned_task_once(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.replied_summoned_task()
    own = people("street", street=STREET)

    rated = expect_ok(evaluate(client, scene.task_id, own))
    again = evaluate(client, scene.task_id, own, {"rating": "satisfied"})

    assert rated["events"] == ["TaskEvaluated"]
    assert assert_problem(again, 409)["code"] == "task_already_evaluated"
    case = expect_ok(client.get(f"{API}/cases/{scene.case_id}", headers=scenes.dispatcher))
    task = next(t for t in case["tasks"] if t["id"] == scene.task_id)
    assert task["evaluation"]["rating"] == "basic"
    assert task["evaluation"]["note"] == RATING["note"]


def test_a_street_cannot_rate_another_streets_whistle(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.replied_summoned_task()

    refused = evaluate(client, scene.task_id, people("street", street=OTHER_STREET))

    assert refused.status_code == 403, refused.text


def test_a_street_cannot_rate_a_task_it_did_not_summon(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.replied_case()  # the lead task, routed by the centre: no whistle

    refused = evaluate(client, scene.task_id, people("street", street=STREET))

    assert assert_problem(refused, 403)["code"] == "not_your_whistle"


def test_a_street_cannot_rate_before_the_department_replies(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    own = people("street", street=STREET)
    whistle = {"departments": ["city"], "reason": "多次反映未解决", "report_within": "2h"}
    scenes.post(f"/cases/{scene.case_id}/whistle", own, whistle)
    case = expect_ok(client.get(f"{API}/cases/{scene.case_id}", headers=scenes.dispatcher))
    summoned = next(t["id"] for t in case["tasks"] if t["role"] == "summoned")

    refused = evaluate(client, summoned, own)

    problem = assert_problem(refused, 409)
    assert problem["code"] == "task_not_replied"
    assert "评价" in problem["detail"] or "办结" in problem["detail"]


def test_the_summoned_worklist_holds_a_replied_task_until_the_street_rates_it(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.replied_summoned_task()
    own = people("street", street=STREET)

    def listed() -> set[str]:
        page = client.get(f"{API}/worklists/summoned", params={"page_size": 500}, headers=own)
        return {item["id"] for item in expect_ok(page)["items"]}

    before = listed()
    expect_ok(evaluate(client, scene.task_id, own))

    assert scene.task_id in before
    assert scene.task_id not in listed()


def test_street_rating_matches_a_hand_count(
    client: TestClient, people: Login, app_container: Container, unique: str
) -> None:
    """Four summoned tasks of one department: satisfied, basic, unsatisfied and one not rated
    yet, plus its lead task (never rated): street_rating = (1 + 1) / 3, and with the default
    weight 0 the score is that of the three rates alone."""
    department = f"city-{unique}"
    now = datetime.now(UTC)
    ratings = ["satisfied", "basic", "unsatisfied", None]
    for rating in ratings:
        story = CaseStory(EventStore(app_container.engine), category=f"cat-{unique}")
        story.received(now - 5 * HOUR)
        summoned = story.dispatched(now - 4 * HOUR, department, role="summoned")
        story.signed(now - 3 * HOUR, summoned)
        story.replied(now - 2 * HOUR, summoned)
        if rating is not None:
            story.evaluated(now - HOUR, summoned, rating)
    lead_story = CaseStory(EventStore(app_container.engine), category=f"cat-{unique}")
    lead_story.received(now - 5 * HOUR)
    lead_story.dispatched(now - 4 * HOUR, department)
    app_container.projector.ensure_tables()
    app_container.projector.catch_up()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    days = {
        "from": (today - timedelta(days=2)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }
    supervisor = people("supervisor")

    def row(**params: str) -> dict[str, Any]:
        query = {"group_by": "department", **days, **params}
        answer = expect_ok(client.get(f"{API}/stats/kpis", params=query, headers=supervisor))
        return next(r for r in answer["items"] if r["key"] == department)

    rollup, exact = row(), row(as_of=(now + HOUR).isoformat())
    before_rating = row(as_of=(now - 1.5 * HOUR).isoformat())

    for counted in (rollup, exact):
        assert counted["dispatched"] == 5
        assert counted["evaluated"] == 3
        assert counted["street_rating"] == pytest.approx(2 / 3)
    assert before_rating["evaluated"] == 0
    assert before_rating["street_rating"] is None
