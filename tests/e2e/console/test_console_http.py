"""The console's session and CSRF rules over plain HTTP (no browser needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.bootstrap import Container

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def console_client(app_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(app_container), base_url="https://testserver") as client:
        yield client


def sign_in(client: TestClient, username: str, password: str, next_path: str = "") -> object:
    page = client.get("/console/login")
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    form = {"username": username, "password": password, "csrf_token": token, "next": next_path}
    return client.post("/console/login", data=form, follow_redirects=False)


def test_the_front_door_leads_to_the_console_and_asks_for_a_sign_in(
    console_client: TestClient,
) -> None:
    front = console_client.get("/", follow_redirects=False)
    assert front.headers["location"] == "/console/"
    page = console_client.get("/console/inbox", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/console/login?next=/console/inbox"


def test_the_session_cookie_is_signed_http_only_same_site_and_secure_over_https(
    console_client: TestClient, login: object
) -> None:
    headers = login("operator")  # type: ignore[operator]
    answer = sign_in(console_client, headers.user.username, headers.password)
    assert answer.status_code == 303  # type: ignore[attr-defined]
    cookie = answer.headers["set-cookie"].lower()  # type: ignore[attr-defined]
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert headers.user.id not in cookie  # signed and encoded, not plain text


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    console_client: TestClient, login: object
) -> None:
    headers = login("operator")  # type: ignore[operator]
    answer = sign_in(console_client, headers.user.username, "not the password")
    assert answer.status_code == 401  # type: ignore[attr-defined]
    assert "用户名或密码错误" in answer.text  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/api/v1/users"])
def test_sign_in_never_redirects_outside_the_console(
    console_client: TestClient, login: object, target: str
) -> None:
    headers = login("operator")  # type: ignore[operator]
    answer = sign_in(console_client, headers.user.username, headers.password, target)
    assert answer.headers["location"] == "/console/"  # type: ignore[attr-defined]


def test_a_post_without_the_sessions_csrf_token_is_refused(
    console_client: TestClient, login: object
) -> None:
    headers = login("operator")  # type: ignore[operator]
    sign_in(console_client, headers.user.username, headers.password)
    body = {"category": "env.smoke", "description": "无令牌", "csrf_token": "forged"}
    answer = console_client.post("/console/intake", data=body)
    assert answer.status_code == 403
    assert "表单已过期" in answer.text
