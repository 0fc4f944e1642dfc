"""Staff administration over HTTP: changes that take authority away end sessions at once
(DESIGN.md §8.9)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.bootstrap import Container

from worlds.scenarios import assert_problem

Login = Any  # the ``login`` fixture of tests/e2e/conftest.py
API = "/api/v1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def console_client(app_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(app_container), base_url="https://testserver") as client:
        yield client


def sign_in(client: TestClient, username: str, password: str) -> str:
    response = client.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return f"Bearer {response.json()['access_token']}"


def console_sign_in(client: TestClient, username: str, password: str) -> None:
    token = CSRF.search(client.get("/console/login").text).group(1)  # type: ignore[union-attr]
    form = {"username": username, "password": password, "csrf_token": token, "next": ""}
    assert client.post("/console/login", data=form, follow_redirects=False).status_code == 303


def patch(client: TestClient, admin: dict[str, str], user_id: str, **change: Any) -> Any:
    return client.patch(f"{API}/users/{user_id}", json=change, headers=admin)


def test_a_disabled_users_token_is_refused_on_the_next_request(
    client: TestClient, login: Login
) -> None:
    operator = login("operator")
    assert client.get(f"{API}/users/me", headers=operator).status_code == 200

    disabled = patch(client, login("admin"), operator.user.id, active=False)

    assert disabled.status_code == 200 and disabled.json()["active"] is False
    body = assert_problem(client.get(f"{API}/users/me", headers=operator), 401)
    assert "disabled" in body["detail"]
    refused = client.post(
        f"{API}/auth/token",
        data={"username": operator.user.username, "password": operator.password},
    )
    assert_problem(refused, 401)


def test_a_disabled_users_console_session_is_refused_on_the_next_request(
    console_client: TestClient, login: Login
) -> None:
    operator = login("operator")
    console_sign_in(console_client, operator.user.username, operator.password)
    assert console_client.get("/console/cases", follow_redirects=False).status_code == 200

    assert patch(console_client, login("admin"), operator.user.id, active=False).status_code == 200

    page = console_client.get("/console/cases", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/console/login")


def test_a_re_roled_users_old_token_is_refused_and_a_new_sign_in_carries_the_new_roles(
    client: TestClient, login: Login
) -> None:
    liaison = login("liaison", department="water")
    old = {"Authorization": sign_in(client, liaison.user.username, liaison.password)}

    changed = patch(client, login("admin"), liaison.user.id, roles=["operator"])

    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["operator"]
    assert changed.json()["department"] is None  # the liaison's binding went with the role
    body = assert_problem(client.get(f"{API}/users/me", headers=old), 401)
    assert "sign in again" in body["detail"]
    assert_problem(client.get(f"{API}/users/me", headers=liaison), 401)
    fresh = {"Authorization": sign_in(client, liaison.user.username, liaison.password)}
    assert client.get(f"{API}/users/me", headers=fresh).json()["roles"] == ["operator"]


def test_a_re_roled_users_console_session_ends(console_client: TestClient, login: Login) -> None:
    dispatcher = login("dispatcher")
    console_sign_in(console_client, dispatcher.user.username, dispatcher.password)

    patch(console_client, login("admin"), dispatcher.user.id, roles=["supervisor"])

    page = console_client.get("/console/desk", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")


def test_a_new_display_name_ends_no_session(client: TestClient, login: Login) -> None:
    operator = login("operator")
    renamed = patch(client, login("admin"), operator.user.id, display_name="王话务员")
    assert renamed.json()["display_name"] == "王话务员"
    assert client.get(f"{API}/users/me", headers=operator).status_code == 200


def test_an_admin_resets_a_password_and_the_old_sessions_and_password_stop_working(
    client: TestClient, login: Login
) -> None:
    operator = login("operator")
    reset = client.post(
        f"{API}/users/{operator.user.id}/password",
        json={"password": "a brand new password"},
        headers=login("admin"),
    )

    assert reset.status_code == 204, reset.text
    assert_problem(client.get(f"{API}/users/me", headers=operator), 401)
    old = {"username": operator.user.username, "password": operator.password}
    assert_problem(client.post(f"{API}/auth/token", data=old), 401)
    sign_in(client, operator.user.username, "a brand new password")


def test_a_user_changes_their_own_password_with_the_current_one(
    client: TestClient, login: Login
) -> None:
    operator = login("operator")
    wrong = {"current_password": "not the password", "new_password": "my new password 1"}
    assert_problem(client.post(f"{API}/users/me/password", json=wrong, headers=operator), 403)

    right = {"current_password": operator.password, "new_password": "my new password 1"}
    changed = client.post(f"{API}/users/me/password", json=right, headers=operator)

    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get(f"{API}/users/me", headers=fresh).status_code == 200
    assert_problem(client.get(f"{API}/users/me", headers=operator), 401)  # every other session
    sign_in(client, operator.user.username, "my new password 1")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"roles": ["liaison"]}, "department"),
        ({"roles": ["street"]}, "street"),
        ({"roles": ["operator"], "street": "XYL"}, "street"),
        ({"roles": []}, "roles"),
        ({"roles": ["emperor"]}, "roles.0"),
        ({"active": "maybe"}, "active"),
        ({"password": "sneaky-change"}, "password"),
    ],
)
def test_an_impossible_change_gets_422_naming_the_field(
    client: TestClient, login: Login, change: dict[str, Any], field: str
) -> None:
    operator = login("operator")
    response = patch(client, login("admin"), operator.user.id, **change)
    problem = assert_problem(response, 422)
    assert field in {error["field"] for error in problem["errors"]}
    assert client.get(f"{API}/users/me", headers=operator).status_code == 200


def test_an_admin_cannot_disable_themselves_or_drop_their_own_admin_role(
    client: TestClient, login: Login
) -> None:
    admin = login("admin")
    assert_problem(patch(client, admin, admin.user.id, active=False), 409)
    assert_problem(patch(client, admin, admin.user.id, roles=["supervisor"]), 409)
    assert client.get(f"{API}/users", headers=admin).status_code == 200


def test_changing_an_unknown_user_gets_404(client: TestClient, login: Login) -> None:
    admin = login("admin")
    assert_problem(patch(client, admin, "no-such-user", active=False), 404)
    missing = client.post(
        f"{API}/users/no-such-user/password", json={"password": "long enough 1"}, headers=admin
    )
    assert_problem(missing, 404)


@pytest.mark.parametrize("role", ["operator", "dispatcher", "supervisor"])
def test_only_an_admin_changes_other_users(client: TestClient, login: Login, role: str) -> None:
    target = login("operator")
    assert_problem(patch(client, login(role), target.user.id, active=False), 403)


def test_every_admin_change_through_the_api_is_in_the_admin_log_and_a_refused_one_is_not(
    client: TestClient, login: Login, app_container: Container
) -> None:
    from dispatch.auth.admin_log import recent_admin_actions

    admin = login("admin")
    operator = login("operator")
    patch(client, admin, operator.user.id, active=False)
    client.post(
        f"{API}/users/{operator.user.id}/password",
        json={"password": "another long passphrase"},
        headers=admin,
    )
    refused = patch(client, admin, operator.user.id, roles=["liaison"])  # no department

    assert_problem(refused, 422)
    with app_container.store.reading() as conn:
        log = [e for e in recent_admin_actions(conn) if e.target == operator.user.username]
    assert [e.action for e in log] == ["password_reset", "user_disabled"]
    assert {e.actor for e in log} == {admin.user.username}
    assert log[1].detail == "roles=operator active → roles=operator disabled"
    assert "another" not in log[0].detail  # never the password
