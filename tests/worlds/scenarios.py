"""Cases and tasks in a known state, made through HTTP, for the route-by-route tests.

``Scenes(client, login, container)`` files complaints as an operator and moves them along as
the department's liaison and a dispatcher. Each factory is named for the state it leaves the
case in and returns a fresh ``Scene``, so the route under test finds its case where it is
legal::

    scene = Scenes(client, login, app_container).signed_task()
    client.post(f"/api/v1/tasks/{scene.task_id}/contact", json={"note": "…"}, headers=liaison)

The route tables make hundreds of requests, so their modules run one app for the whole module
(``module_container``, ``module_client``) and one user per kind of caller (``remembered``);
each test still gets a case of its own.

The complaint is ``env.smoke`` at 西一路12号: grid XYL-01 in street XYL, routed to ``envir``
alone (one lead task, no assist), with the reporter's phone ``13800138000``.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image

from dispatch.app import create_app
from dispatch.auth.users import add_user
from dispatch.bootstrap import Container, bootstrap
from dispatch.delivery.queues import route_case_job
from dispatch.delivery.state import add_dead_letter
from dispatch.settings import Settings

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"

DEPARTMENT = "envir"  # the lead (and only) department of every scene's task
OTHER_DEPARTMENT = "gas"
STREET = "XYL"  # the street of every scene's case
OTHER_STREET = "CLZ"
PHONE = "13800138000"
MASKED_PHONE = "138****8000"

COMPLAINT: dict[str, Any] = {
    "channel": "phone",
    "category": "env.smoke",
    "description": "楼下餐馆油烟直排，窗户都不敢开",
    "urgency": "normal",
    "location": {"address": "西一路12号", "lat": 34.27, "lon": 108.952},
    "reporter": {"name": "王女士", "phone": PHONE},
}
# No location and a category only the street catch-all rule takes: no rule can route it, so
# it waits for a dispatcher in ``received`` (the state a direct answer needs).
UNROUTABLE = {**COMPLAINT, "category": "other.consult", "location": {}}


class Login(Protocol):
    """The ``login`` fixture of ``tests/e2e/conftest.py``."""

    def __call__(
        self, *roles: str, department: str | None = None, street: str | None = None
    ) -> dict[str, str]: ...


@dataclass(frozen=True)
class Scene:
    """What a route needs to act on: a case, its lead task, another case, a user."""

    case_id: str = ""
    task_id: str = ""
    other_case_id: str = ""
    user_id: str = ""
    letter_id: int = 0  # a dead letter's
    reply_by: datetime | None = None  # the lead task's current reply_by
    attachment_id: str = ""  # a photo on the case's


def module_container(database_url: str, redis_url: str) -> Iterator[Container]:
    """The e2e tests' Container (``app_container`` in ``tests/e2e/conftest.py``), as a generator a
    module-scoped fixture can keep for the whole module."""
    container = bootstrap(
        Settings(
            database_url=database_url,
            redis_url=redis_url,
            secret_key="test-secret-of-at-least-32-bytes-long",
            inline_routing=True,
        )
    )
    yield container
    container.close()


def module_client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as client:
        yield client


def remembered(login: Login, known: dict[tuple[Any, ...], dict[str, str]]) -> Login:
    """``login``, making one user per (roles, department, street) and reusing it after."""

    def once(
        *roles: str, department: str | None = None, street: str | None = None
    ) -> dict[str, str]:
        key = (roles, department, street)
        if key not in known:
            known[key] = login(*roles, department=department, street=street)
        return known[key]

    return once


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def expect_ok(response: Response) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    return response.json()


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem+json answer with ``status`` and the four members clients rely on."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"], body
    assert body["code"], body  # DESIGN §8.3: every problem names its rule
    return body


class Scenes:
    def __init__(self, client: TestClient, login: Login, container: Container) -> None:
        self.client = client
        self.login = login
        self.container = container

    @cached_property
    def operator(self) -> dict[str, str]:
        return self.login("operator")

    @cached_property
    def dispatcher(self) -> dict[str, str]:
        return self.login("dispatcher")

    @cached_property
    def liaison(self) -> dict[str, str]:
        return self.login("liaison", department=DEPARTMENT)

    # -- building blocks -------------------------------------------------------------------

    def post(self, path: str, headers: Mapping[str, str], body: Any = None) -> dict[str, Any]:
        return expect_ok(
            self.client.post(
                f"{API}{path}", json={} if body is None else body, headers=dict(headers)
            )
        )

    def file(self, complaint: Mapping[str, Any] = COMPLAINT) -> str:
        return self.post("/cases", self.operator, dict(complaint))["id"]

    def lead_task(self, case_id: str) -> dict[str, Any]:
        case = expect_ok(self.client.get(f"{API}/cases/{case_id}", headers=self.dispatcher))
        return next(
            task
            for task in case["tasks"]
            if task["role"] == "lead" and task["state"] not in ("cancelled", "returned")
        )

    def scene(self, case_id: str, **more: Any) -> Scene:
        task = self.lead_task(case_id)
        reply_by = datetime.fromisoformat(task["deadlines"]["reply_by"])
        return Scene(case_id=case_id, task_id=task["id"], reply_by=reply_by, **more)

    def sign(self, scene: Scene) -> Scene:
        self.post(f"/tasks/{scene.task_id}/sign", self.liaison)
        return scene

    # -- the states a route needs ----------------------------------------------------------

    def nothing(self) -> Scene:
        """For routes that act on no case (lists, the catalogue, the feed)."""
        return Scene()

    def received_case(self) -> Scene:
        return Scene(case_id=self.file(UNROUTABLE))

    def dispatched_case(self) -> Scene:
        return self.scene(self.file())

    def attach(self, case_id: str, headers: Mapping[str, str], **form: str) -> dict[str, Any]:
        """Upload a small PNG to the case (stage ``intake`` unless ``form`` says otherwise)."""
        response = self.client.post(
            f"{API}/cases/{case_id}/attachments",
            files={"file": ("photo.png", tiny_png(), "image/png")},
            data={"stage": "intake", **form},
            headers=dict(headers),
        )
        return expect_ok(response)

    def attached_case(self) -> Scene:
        """A dispatched case with one photo on it."""
        scene = self.dispatched_case()
        attachment = self.attach(scene.case_id, self.operator)
        return replace(scene, attachment_id=attachment["id"])

    def two_cases(self) -> Scene:
        """A dispatched case and another one it can be merged into."""
        other = self.file()
        return self.scene(self.file(), other_case_id=other)

    def signed_task(self) -> Scene:
        return self.sign(self.dispatched_case())

    def return_requested(self) -> Scene:
        scene = self.dispatched_case()
        body = {"reason": "territory", "basis": "该餐馆属长乐中路街道管辖"}
        self.post(f"/tasks/{scene.task_id}/return", self.liaison, body)
        return scene

    def extension_requested(self) -> Scene:
        scene = self.signed_task()
        body = extension_body(scene)
        self.post(f"/tasks/{scene.task_id}/extension", self.liaison, body)
        return scene

    def replied_case(self) -> Scene:
        scene = self.signed_task()
        self.post(f"/tasks/{scene.task_id}/reply", self.liaison, {"resolution": "已加装净化器"})
        return scene

    def replied_summoned_task(self) -> Scene:
        """吹哨报到: the street summoned ``city`` to the case, and ``city`` replied; the scene's
        task is the summoned one (the street may rate it, 双考核)."""
        scene = self.dispatched_case()
        street = self.login("street", street=STREET)
        whistle = {"departments": ["city"], "reason": "多次反映未解决", "report_within": "2h"}
        self.post(f"/cases/{scene.case_id}/whistle", street, whistle)
        case = expect_ok(self.client.get(f"{API}/cases/{scene.case_id}", headers=self.dispatcher))
        task_id = next(t["id"] for t in case["tasks"] if t["role"] == "summoned")
        city = self.login("liaison", department="city")
        self.post(f"/tasks/{task_id}/sign", city)
        self.post(f"/tasks/{task_id}/reply", city, {"resolution": "已联合执法，拆除违建"})
        return replace(scene, task_id=task_id)

    def parked_case(self) -> Scene:
        scene = self.dispatched_case()
        self.post(f"/cases/{scene.case_id}/park", self.dispatcher, park_body(scene))
        return scene

    def dead_letter(self) -> Scene:
        """A routing job that gave up on a (routed) case: replaying it changes nothing."""
        case_id = self.file()
        job = route_case_job(case_id)
        with self.container.engine.begin() as conn:
            letter_id = add_dead_letter(
                conn,
                kind=job.kind,
                job_id=job.id,
                queue=job.queue,
                payload={"args": list(job.args)},
                error="ConnectionError: the test said so",
                now=self.container.clock(),
            )
        return Scene(case_id=case_id, letter_id=letter_id)

    def a_user(self) -> Scene:
        return Scene(user_id=self.operator.user.id)  # type: ignore[attr-defined]

    def a_spare_user(self) -> Scene:
        """A user of its own, whose sessions a route may end (a new password, new roles)."""
        with self.container.engine.begin() as conn:
            user = add_user(
                conn,
                username=f"spare-{uuid.uuid4().hex[:10]}",
                password="long enough 1",
                roles=["operator"],
                now=self.container.clock(),
                hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
            )
        return Scene(user_id=user.id)


def extension_body(scene: Scene) -> dict[str, Any]:
    """One day past the task's reply_by: later than now, well inside the general policy's cap."""
    assert scene.reply_by is not None
    return {"reply_by": (scene.reply_by + timedelta(days=1)).isoformat(), "reason": "需协调执法"}


def park_body(_scene: Scene) -> dict[str, Any]:
    return {"plan": "列入明年改造计划", "review_on": "2027-03-01"}
