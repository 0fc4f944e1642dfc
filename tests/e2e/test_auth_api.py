"""Signing in, bearer tokens and the users API over HTTP (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatch.auth.staff import deactivate_user
from dispatch.auth.tokens import issue_token
from dispatch.bootstrap import Container

Login = Callable[..., Any]  # the ``login`` fixture of tests/e2e/conftest.py

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_a_user_signs_in_with_the_form_and_uses_the_token(client: TestClient, login: Login) -> None:
    headers = login("operator")
    user = headers.user
    response = client.post(
        "/api/v1/auth/token", data={"username": user.username, "password": headers.password}
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 480 * 60
    me = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_a_wrong_password_gets_401(client: TestClient, login: Login) -> None:
    user = login("operator").user
    response = client.post(
        "/api/v1/auth/token", data={"username": user.username, "password": "wrong-password"}
    )
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_form_without_a_password_gets_422_naming_it(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "someone"})
    assert "password" in assert_problem(response, 422)["detail"]


def test_an_unknown_user_gets_the_same_401(client: TestClient, unique: str) -> None:
    response = client.post(
        "/api/v1/auth/token", data={"username": f"nobody-{unique}", "password": "whatever1"}
    )
    body = assert_problem(response, 401)
    assert "username or password" in body["detail"]


def test_users_me_shows_roles_and_binding_but_no_password_hash(
    client: TestClient, login: Login
) -> None:
    headers = login("liaison", "supervisor", department="water")
    response = client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == headers.user.id
    assert me["roles"] == ["liaison", "supervisor"]
    assert me["department"] == "water" and me["street"] is None
    assert "password" not in response.text and "argon2" not in response.text


def test_no_token_gets_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/users/me")
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "/api/v1/auth/token" in body["detail"]


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer"]
)
def test_a_bad_token_gets_401(client: TestClient, authorization: str) -> None:
    response = client.get("/api/v1/users/me", headers={"Authorization": authorization})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_expired_token_gets_401_saying_so(
    client: TestClient, login: Login, app_container: Container
) -> None:
    user = login("operator").user
    long_ago = app_container.clock() - timedelta(days=1)
    token, _ = issue_token(user, app_container.settings, long_ago)
    response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 401)
    assert "expired" in body["detail"]
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_from_another_secret_gets_401(
    client: TestClient, login: Login, app_container: Container
) -> None:
    user = login("admin").user
    other = app_container.settings.model_copy(
        update={"secret_key": "not-our-secret-but-thirty-two-bytes-long"}
    )
    token, _ = issue_token(user, other, app_container.clock())
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)


def test_a_disabled_users_token_stops_working_at_once(
    client: TestClient, login: Login, app_container: Container
) -> None:
    headers = login("operator")
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    with app_container.engine.begin() as conn:
        deactivate_user(conn, headers.user.id)
    assert_problem(client.get("/api/v1/users/me", headers=headers), 401)


@pytest.mark.parametrize(
    ("role", "binding"),
    [
        ("operator", {}),
        ("dispatcher", {}),
        ("supervisor", {}),
        ("street", {"street": "XYL"}),
        ("liaison", {"department": "water"}),
    ],
)
def test_only_an_admin_lists_users(
    client: TestClient, login: Login, role: str, binding: dict[str, str]
) -> None:
    headers = login(role, **binding)
    body = assert_problem(client.get("/api/v1/users", headers=headers), 403)
    assert "needs one of the roles: admin" in body["detail"]


def test_an_admin_who_holds_other_roles_too_lists_users(client: TestClient, login: Login) -> None:
    headers = login("supervisor", "admin")
    response = client.get("/api/v1/users", params={"page_size": 500}, headers=headers)
    assert response.status_code == 200
    page = response.json()
    assert page["total"] >= 1
    assert headers.user.username in {item["username"] for item in page["items"]}
    assert all("password_hash" not in item for item in page["items"])


def test_an_admin_creates_a_user_who_can_then_sign_in(
    client: TestClient, login: Login, unique: str
) -> None:
    body = {
        "username": f"liaison-{unique}",
        "password": "water-works-1",
        "display_name": "水务联络员",
        "roles": ["liaison"],
        "department": "water",
    }
    response = client.post("/api/v1/users", json=body, headers=login("admin"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["roles"] == ["liaison"] and created["department"] == "water"
    assert created["display_name"] == "水务联络员"
    assert response.headers["location"].endswith(f"/api/v1/users/{created['id']}")
    assert "password" not in created
    fetched = client.get(response.headers["location"], headers=login("admin"))
    assert fetched.json() == created
    token = client.post(
        "/api/v1/auth/token", data={"username": body["username"], "password": body["password"]}
    )
    assert token.status_code == 200


def test_a_taken_username_gets_409(client: TestClient, login: Login) -> None:
    admin = login("admin")
    body = {"username": admin.user.username, "password": "long-enough", "roles": ["operator"]}
    assert_problem(client.post("/api/v1/users", json=body, headers=admin), 409)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"roles": ["liaison"]}, "department"),
        ({"roles": ["street"]}, "street"),
        ({"roles": ["operator"], "street": "XYL"}, "street"),
        ({"roles": ["emperor"]}, "roles.0"),
        ({"roles": []}, "roles"),
        ({"password": "short"}, "password"),
        ({"username": ""}, "username"),
        ({"role": ["operator"]}, "role"),
    ],
)
def test_an_impossible_user_gets_422_naming_the_field(
    client: TestClient, login: Login, unique: str, change: dict, field: str
) -> None:
    body = {"username": f"bad-{unique}", "password": "long-enough", "roles": ["operator"]}
    body.update(change)
    response = client.post("/api/v1/users", json=body, headers=login("admin"))
    problem = assert_problem(response, 422)
    assert field in {error["field"] for error in problem["errors"]}
    assert field in problem["detail"]


def test_an_unknown_user_id_gets_404(client: TestClient, login: Login) -> None:
    assert_problem(client.get("/api/v1/users/no-such-id", headers=login("admin")), 404)
