"""Sign-in throttling over HTTP, for the API and the console (DESIGN.md §8.9).

Each test signs in from an address of its own (``TestClient(client=...)``), so that its
failures never count against another test's address.
"""

from __future__ import annotations

import random
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth.signin import authenticate
from dispatch.auth.throttle import Limits, MemoryFailures, SignInGate
from dispatch.bootstrap import Container
from events.database import make_engine

from worlds.scenarios import COMPLAINT, assert_problem
from worlds.servers import served

Login = Any  # the ``login`` fixture of tests/e2e/conftest.py
TOKEN = "/api/v1/auth/token"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WINDOW = 15 * 60


@pytest.fixture
def client_at(app_container: Container) -> Iterator[Callable[[], TestClient]]:
    """A factory of clients, each from a new address, on one app (one sign-in gate)."""
    app = create_app(app_container)
    clients: list[TestClient] = []

    def make() -> TestClient:
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(256)}"
        client = TestClient(app, base_url="https://testserver", client=(address, 50000))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def attempt(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post(TOKEN, data={"username": username, "password": password})


def console_attempt(client: TestClient, username: str, password: str) -> httpx.Response:
    token = CSRF.search(client.get("/console/login").text).group(1)  # type: ignore[union-attr]
    form = {"username": username, "password": password, "csrf_token": token, "next": ""}
    return client.post("/console/login", data=form, follow_redirects=False)


def test_six_wrong_passwords_for_one_username_get_429_with_retry_after(
    client_at: Callable[[], TestClient], login: Login
) -> None:
    headers = login("operator")
    user = headers.user
    client = client_at()
    for _ in range(5):
        assert_problem(attempt(client, user.username, "wrong password"), 401)

    sixth = attempt(client, user.username, "wrong password")

    body = assert_problem(sixth, 429)
    assert 0 < int(sixth.headers["retry-after"]) <= WINDOW
    assert "too many failed sign-ins" in body["detail"]
    # Refused before any password check: the right one is refused too, from anywhere.
    assert_problem(attempt(client_at(), user.username, headers.password), 429)


def test_twenty_failures_from_one_address_block_every_username_from_it(
    client_at: Callable[[], TestClient], login: Login
) -> None:
    headers = login("operator")
    client = client_at()
    for _ in range(5):  # four each: no username reaches its own limit
        someone = login("operator").user.username
        for _ in range(4):
            assert_problem(attempt(client, someone, "guess 1234"), 401)

    blocked = attempt(client, headers.user.username, headers.password)

    assert "from your address" in assert_problem(blocked, 429)["detail"]
    assert int(blocked.headers["retry-after"]) > 0
    assert attempt(client_at(), headers.user.username, headers.password).status_code == 200


def test_a_successful_sign_in_clears_the_usernames_failures(
    client_at: Callable[[], TestClient], login: Login
) -> None:
    headers = login("operator")
    client = client_at()
    for _ in range(4):
        assert_problem(attempt(client, headers.user.username, "wrong password"), 401)
    assert attempt(client, headers.user.username, headers.password).status_code == 200
    for _ in range(4):
        assert_problem(attempt(client, headers.user.username, "wrong password"), 401)


def test_the_console_login_form_is_throttled_with_the_same_counts(
    client_at: Callable[[], TestClient], login: Login
) -> None:
    user = login("operator").user
    client = client_at()
    for _ in range(3):
        assert_problem(attempt(client, user.username, "wrong password"), 401)
    for _ in range(2):
        assert console_attempt(client, user.username, "wrong password").status_code == 401

    page = console_attempt(client, user.username, "wrong password")

    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert "登录失败次数过多" in page.text


def test_a_password_check_holds_no_database_connection_while_it_hashes(
    database_url: str, login: Login
) -> None:
    """So on SQLite it never holds the write lock that every intake needs."""
    headers = login("operator")
    engine = make_engine(database_url)
    hashing, release = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    class SlowHasher:
        """Stands for argon2 taking its time: holds the check until the test releases it."""

        def verify(self, password_hash: str, password: str) -> bool:
            seen["connections"] = engine.pool.checkedout()  # type: ignore[attr-defined]
            hashing.set()
            release.wait(10)
            return False

    checking = threading.Thread(
        target=authenticate,
        args=(engine, headers.user.username, "wrong password"),
        kwargs={"hasher": SlowHasher()},
    )
    checking.start()
    try:
        assert hashing.wait(10)
        with engine.begin() as conn:  # a writer (BEGIN IMMEDIATE on SQLite) gets through
            conn.exec_driver_sql("SELECT 1")
    finally:
        release.set()
        checking.join(10)
        engine.dispose()
    assert seen["connections"] == 0


def test_intake_still_answers_201_during_a_login_storm(
    app_container: Container, login: Login, sample_catalogue: int
) -> None:
    """50 anonymous sign-ins at once (each a full argon2 check: throttling lifted) while an
    operator files complaints. Only that intake answers is asserted; bench/login_storm.py
    measures how fast."""
    operator = login("operator")
    app = create_app(app_container)
    unlimited = Limits(per_username=10**6, per_address=10**6)
    app.state.sign_in_gate = SignInGate(MemoryFailures(), limits=unlimited)
    answers: list[int] = []

    def anonymous_sign_in(base: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            form = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "guess 1234"}
            answers.append(client.post(TOKEN, data=form).status_code)

    with served(app) as base:
        storm = [threading.Thread(target=anonymous_sign_in, args=(base,)) for _ in range(50)]
        for thread in storm:
            thread.start()
        with httpx.Client(base_url=base, timeout=60, headers=operator) as intake:
            filed = [intake.post("/api/v1/cases", json=COMPLAINT) for _ in range(5)]
        for thread in storm:
            thread.join(timeout=120)

    assert [response.status_code for response in filed] == [201] * 5
    assert len(answers) == 50 and set(answers) <= {401, 503}
