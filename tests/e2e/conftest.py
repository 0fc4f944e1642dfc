"""Fixtures for HTTP tests: the app on the test database, a client, and ``login``.

``login`` is how a test acts as someone::

    def test_liaison_sees_own_inbox(client, login):
        headers = login("liaison", department="water")
        response = client.get("/api/v1/tasks", headers=headers)

    # several roles, and the user behind the headers (and their password, for the form):
    headers = login("dispatcher", "supervisor")
    headers.user.username, headers.user.id, headers.password

Each call creates a fresh user with a random username (so tests never collide on the shared
session database) and returns ``{"Authorization": "Bearer …"}``. The token is signed by the
app's own settings and clock, so it is valid for ``client`` even when a test moves the clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Protocol

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth.roles import Role
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import User, add_user
from dispatch.bootstrap import Container, bootstrap
from dispatch.settings import Settings

# Every user ``login`` makes has this password, so a test can also sign in through the form.
LOGIN_PASSWORD = "correct horse battery staple"

# Cheap argon2 parameters keep user creation at about a millisecond; a real sign-in through
# /auth/token upgrades the hash to the default parameters, as it would in production.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class AuthHeaders(dict[str, str]):
    """``{"Authorization": "Bearer …"}``, also carrying the ``User`` it was issued for."""

    user: User
    password: str


class Login(Protocol):
    def __call__(
        self, *roles: Role | str, department: str | None = None, street: str | None = None
    ) -> AuthHeaders: ...


@pytest.fixture
def app_container(database_url: str, redis_url: str) -> Iterator[Container]:
    """A Container on the session's test database and Redis, with a known secret key.

    New cases are routed in-process (``inline_routing``), so HTTP tests see tasks without
    running the RQ workers; the worker path has its own tests.
    """
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


@pytest.fixture
def client(app_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(app_container)) as test_client:
        yield test_client


@pytest.fixture
def login(app_container: Container) -> Login:
    """A factory: ``login(role, *more_roles, department=None, street=None) -> AuthHeaders``."""

    def make(
        *roles: Role | str, department: str | None = None, street: str | None = None
    ) -> AuthHeaders:
        if not roles:
            raise TypeError("login needs at least one role, e.g. login('operator')")
        with app_container.engine.begin() as conn:
            user = add_user(
                conn,
                username=f"{roles[0]}-{uuid.uuid4().hex[:10]}",
                password=LOGIN_PASSWORD,
                roles=roles,
                department=department,
                street=street,
                now=app_container.clock(),
                hasher=FAST_HASHER,
            )
        token, _ = issue_token(user, app_container.settings, app_container.clock())
        headers = AuthHeaders(Authorization=f"Bearer {token}")
        headers.user = user
        headers.password = LOGIN_PASSWORD
        return headers

    return make
