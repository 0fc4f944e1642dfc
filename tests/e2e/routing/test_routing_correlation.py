"""One correlation id from the request to the events it appends, the jobs those events cause,
and the events those jobs append (``X-Request-ID``; DESIGN.md §8.10)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from rq.job import Job

from dispatch.app import create_app
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.delivery.queues import SERIALIZER, deliver_task_job, route_case_job

from worlds.routing import World

API = "/api/v1"
COMPLAINT = {
    "channel": "phone",
    "category": "water.outage",
    "description": "停水两天",
    "urgency": "normal",
}


def operator_headers(world: World) -> dict[str, str]:
    with world.container.engine.begin() as conn:
        user = add_user(
            conn,
            username=f"operator-{uuid.uuid4().hex[:10]}",
            password="correct horse battery staple",
            roles=("operator",),
            now=world.container.clock(),
        )
    token, _ = issue_token(user, world.container.settings, world.container.clock())
    return {"Authorization": f"Bearer {token}"}


def correlation_ids(world: World, case_id: str, event_type: str) -> set[str]:
    return {
        e.meta["correlation_id"]
        for e in world.container.store.read_stream(case_id)
        if e.type == event_type
    }


def job_correlation_id(world: World, job_id: str) -> object:
    job = Job.fetch(job_id, connection=world.connection, serializer=SERIALIZER)
    return job.meta.get("correlation_id")


def test_the_request_id_follows_a_case_into_its_jobs_and_their_events(world: World):
    headers = {**operator_headers(world), "X-Request-ID": "req-4f1c.intake:01"}
    with TestClient(create_app(world.container)) as client:
        # city hears by webhook: its task is a delivery job (an inbox task needs none)
        stall = {**COMPLAINT, "category": "city.stall", "description": "占道经营"}
        response = client.post(f"{API}/cases", json=stall, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == "req-4f1c.intake:01"
    case_id = response.json()["id"]
    assert correlation_ids(world, case_id, "CaseReceived") == {"req-4f1c.intake:01"}

    world.relay()
    assert job_correlation_id(world, route_case_job(case_id).id) == "req-4f1c.intake:01"

    world.work()  # the routing job appends CaseDispatched under the same id
    assert correlation_ids(world, case_id, "CaseDispatched") == {"req-4f1c.intake:01"}
    world.relay()
    [task] = world.events_of(case_id, "CaseDispatched")
    delivery = deliver_task_job(str(task["task_id"]), str(task["department"]))
    assert job_correlation_id(world, delivery.id) == "req-4f1c.intake:01"


def test_a_request_without_a_usable_id_gets_a_new_one(world: World):
    headers = operator_headers(world)
    with TestClient(create_app(world.container)) as client:
        plain = client.post(f"{API}/cases", json=COMPLAINT, headers=headers)
        unsafe = client.post(
            f"{API}/cases",
            json=COMPLAINT,
            headers={**headers, "X-Request-ID": "x" * 65},  # too long: replaced, not refused
        )
        injected = client.get("/healthz", headers={"X-Request-ID": 'a"b,{c}'})

    for response in (plain, unsafe):
        assert response.status_code == 201
        generated = response.headers["X-Request-ID"]
        assert len(generated) == 32 and generated != "x" * 65
        assert correlation_ids(world, response.json()["id"], "CaseReceived") == {generated}
    assert injected.headers["X-Request-ID"] != 'a"b,{c}'
    assert plain.headers["X-Request-ID"] != unsafe.headers["X-Request-ID"]
