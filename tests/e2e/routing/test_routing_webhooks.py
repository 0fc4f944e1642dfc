"""Webhook delivery to a department's own system, a real HTTP server in the test: signed
bodies, retries with back-off, dead letters a dispatcher sees and replays over HTTP."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.delivery.policy import DeliveryPolicy

from worlds.routing import WEBHOOK_SECRET, World, catalogue_text

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class DepartmentSystem:
    """A department's own case system: answers with the statuses it is told to, in turn."""

    answers: list[int] = field(default_factory=list)
    otherwise: int = 200
    received: list[Received] = field(default_factory=list)
    url: str = ""
    reply: bytes = b"{}"

    def answer(self) -> int:
        return self.answers.pop(0) if self.answers else self.otherwise


@pytest.fixture
def department() -> Iterator[DepartmentSystem]:
    system = DepartmentSystem()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = system.answer()
            system.received.append(Received(dict(self.headers), body, status))
            self.send_response(status)
            self.end_headers()
            # The worker may stop reading: it reads a bounded part of any answer.
            with contextlib.suppress(OSError):
                self.wfile.write(system.reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    system.url = f"http://127.0.0.1:{server.server_address[1]}/12345/tasks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield system
    server.shutdown()
    server.server_close()


@pytest.fixture
def city(world: World, department: DepartmentSystem) -> World:
    """The world with the ``city`` department on the test's webhook, three attempts, no wait."""
    world.load_catalogue(catalogue_text(webhook=department.url))
    world.container.delivery_policy = DeliveryPolicy(attempts=3, backoff=(0,), timeout=5)
    return world


def signature_is_valid(received: Received) -> bool:
    expected = hmac.new(WEBHOOK_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["X-Street-Whistle-Signature"], f"sha256={expected}")


def dispatcher_headers(world: World) -> dict[str, str]:
    with world.container.engine.begin() as conn:
        user = add_user(
            conn,
            username=f"dispatcher-{uuid.uuid4().hex[:8]}",
            password="correct horse battery staple",
            roles=("dispatcher",),
            now=world.container.clock(),
            hasher=FAST_HASHER,
        )
    token, _ = issue_token(user, world.container.settings, world.container.clock())
    return {"Authorization": f"Bearer {token}"}


def test_a_webhook_failing_twice_then_succeeding_delivers_the_task_once_signed(
    city: World, department: DepartmentSystem
):
    department.answers = [500, 503]
    case_id = city.submit("city.stall")

    city.settle()
    city.settle()  # a second round finds nothing more to send

    assert [r.answered for r in department.received] == [500, 503, 200]
    assert all(signature_is_valid(r) for r in department.received)
    delivered = json.loads(department.received[-1].body)
    assert delivered["task"]["id"] == f"{case_id}-1"
    assert delivered["case"]["category"] == "city.stall"
    assert department.received[-1].headers["X-Street-Whistle-Delivery"] == f"{case_id}-1"
    assert department.received[-1].headers["X-Street-Whistle-Timestamp"].isdigit()
    assert city.delivery_states() == {f"{case_id}-1": "delivered"}


def test_a_webhook_that_always_fails_becomes_a_dead_letter_that_a_dispatcher_replays(
    city: World, department: DepartmentSystem
):
    department.otherwise = 500
    case_id = city.submit("city.stall")
    city.settle()
    assert len(department.received) == 3
    assert city.delivery_states() == {f"{case_id}-1": "failed"}

    with TestClient(create_app(city.container)) as client:
        headers = dispatcher_headers(city)
        letters = client.get("/api/v1/deliveries/dead-letters", headers=headers).json()
        assert letters["total"] == 1
        [letter] = letters["items"]
        assert letter["kind"] == "deliver_task"
        assert letter["payload"]["task_id"] == f"{case_id}-1"
        assert "HTTP 500" in letter["error"]

        department.otherwise = 200
        replayed = client.post(
            f"/api/v1/deliveries/dead-letters/{letter['id']}/replay", headers=headers
        )
        assert replayed.status_code == 202, replayed.text
        assert replayed.json()["replayed_by"].startswith("dispatcher-")
        city.work()

        assert city.delivery_states() == {f"{case_id}-1": "delivered"}
        assert [r.answered for r in department.received] == [500, 500, 500, 200]
        again = client.post(
            f"/api/v1/deliveries/dead-letters/{letter['id']}/replay", headers=headers
        )
        assert again.status_code == 409
        assert client.get("/api/v1/deliveries/dead-letters", headers=headers).json()["total"] == 0


def test_only_dispatchers_see_dead_letters(city: World):
    with TestClient(create_app(city.container)) as client:
        assert client.get("/api/v1/deliveries/dead-letters").status_code == 401
        assert client.post("/api/v1/deliveries/dead-letters/1/replay").status_code == 401
        headers = dispatcher_headers(city)
        missing = client.post("/api/v1/deliveries/dead-letters/999/replay", headers=headers)
        assert missing.status_code == 404


def test_a_receivers_answer_is_never_stored_and_read_only_in_part(
    city: World, department: DepartmentSystem
):
    echo = b"<html>error for case, caller 13800138000</html>"
    department.otherwise = 500
    department.reply = echo + b"x" * (4 * 1024 * 1024)
    case_id = city.submit("city.stall")
    city.settle()
    assert city.delivery_states() == {f"{case_id}-1": "failed"}

    with TestClient(create_app(city.container)) as client:
        letters = client.get("/api/v1/deliveries/dead-letters", headers=dispatcher_headers(city))
    [letter] = letters.json()["items"]
    assert letter["error"] == "attempt 3: HTTP 500"
    assert "13800138000" not in letters.text and "<html>" not in letters.text
    with city.container.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT last_error FROM deliveries").scalars().all()
    assert stored and not any("13800138000" in (error or "") for error in stored)
