# ruff: noqa: F811 (the module_app fixtures are, to ruff, names redefined by arguments)
"""GET /stream (DESIGN.md §8.8) over HTTP: Server-Sent Events in the caller's scope, resumed
from ``Last-Event-ID``, bounded per process. Streams here last a second (a short-lived hub),
so the test client reads each to its end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from module_app import app_container, client, people, scenes, signed_in  # noqa: F401

from dispatch.bootstrap import Container
from dispatch.live import LiveHub

from worlds.scenarios import API, DEPARTMENT, OTHER_DEPARTMENT, Login, Scenes, assert_problem

pytestmark = pytest.mark.usefixtures("sample_catalogue")


@pytest.fixture
def hub(client: TestClient) -> LiveHub:
    short = LiveHub(limit=2, lifetime=1.0, poll_seconds=0.1)
    client.app.state.live_hub = short  # type: ignore[attr-defined]
    return short


def messages(text: str) -> list[dict[str, Any]]:
    """The stream's messages: ``{id, event, data}``; comments and ``retry`` left out."""
    found = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            if name in ("id", "event", "data"):
                fields[name] = value
        if "event" in fields:
            fields["data"] = json.loads(fields["data"])
            found.append(fields)
    return found


def streamed(
    client: TestClient, headers: dict[str, str], since: int | None
) -> list[dict[str, Any]]:
    resumed = {} if since is None else {"Last-Event-ID": str(since)}
    response = client.get(f"{API}/stream", headers={**headers, **resumed})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return messages(response.text)


def of_kind(found: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m["data"] for m in found if m["event"] == kind]


@pytest.mark.usefixtures("hub")
def test_a_liaison_never_receives_another_departments_task_events(
    client: TestClient, people: Login, scenes: Scenes, app_container: Container
) -> None:
    before = app_container.store.head_position()
    scene = scenes.dispatched_case()
    own = people("liaison", department=DEPARTMENT)
    other = people("liaison", department=OTHER_DEPARTMENT)

    mine = of_kind(streamed(client, own, before), "task")
    theirs = of_kind(streamed(client, other, before), "task")

    assert scene.task_id in {task["id"] for task in mine}
    assert {task["department"] for task in mine} == {DEPARTMENT}
    assert scene.task_id not in {task["id"] for task in theirs}
    assert {task["department"] for task in theirs} <= {OTHER_DEPARTMENT}


@pytest.mark.usefixtures("hub")
def test_a_stream_opens_with_the_callers_worklist_counts(client: TestClient, people: Login) -> None:
    dispatcher = people("dispatcher")
    listed = client.get(f"{API}/worklists", headers=dispatcher).json()["lists"]

    counts = of_kind(streamed(client, dispatcher, None), "worklist")

    assert {c["key"]: c["count"] for c in counts} == {w["key"]: w["count"] for w in listed}


@pytest.mark.usefixtures("hub")
def test_resuming_from_the_last_event_id_repeats_nothing_already_told(
    client: TestClient, people: Login, scenes: Scenes, app_container: Container
) -> None:
    before = app_container.store.head_position()
    scene = scenes.dispatched_case()
    own = people("liaison", department=DEPARTMENT)
    first = streamed(client, own, before)
    last = max(int(m["id"]) for m in first)

    again = streamed(client, own, last)

    assert scene.task_id in {task["id"] for task in of_kind(first, "task")}
    assert of_kind(again, "task") == []


@pytest.mark.usefixtures("hub")
def test_a_dispatcher_hears_no_department_task_events_but_its_counts(
    client: TestClient, people: Login, scenes: Scenes, app_container: Container
) -> None:
    before = app_container.store.head_position()
    scenes.dispatched_case()

    found = streamed(client, people("dispatcher"), before)

    assert of_kind(found, "task") == []
    assert of_kind(found, "worklist")


def test_beyond_the_processes_limit_a_stream_is_a_503_problem_with_retry_after(
    client: TestClient, people: Login, hub: LiveHub
) -> None:
    hub.open_streams = hub.limit  # as if other clients held every stream

    response = client.get(f"{API}/stream", headers=people("dispatcher"))

    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0
    hub.open_streams = 0


def test_a_stopping_server_opens_no_stream(client: TestClient, people: Login, hub: LiveHub) -> None:
    hub.stop()

    assert_problem(client.get(f"{API}/stream", headers=people("dispatcher")), 503)


@pytest.mark.usefixtures("hub")
def test_an_ended_stream_gives_its_place_back(client: TestClient, people: Login) -> None:
    hub: LiveHub = client.app.state.live_hub  # type: ignore[attr-defined]

    streamed(client, people("dispatcher"), None)

    assert hub.open_streams == 0


@pytest.mark.parametrize("bad", ["abc", "-1", "1" * 30, "9" * 20])
@pytest.mark.usefixtures("hub")
def test_a_last_event_id_we_never_sent_is_a_422_problem(
    bad: str, client: TestClient, people: Login
) -> None:
    response = client.get(f"{API}/stream", headers={**people("dispatcher"), "Last-Event-ID": bad})
    assert_problem(response, 422)


def test_without_a_token_the_stream_is_401(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/stream"), 401)
