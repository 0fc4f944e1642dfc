"""``dispatch users`` and ``dispatch apikeys`` against the session database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from dispatch.auth.apikeys import check_api_key
from dispatch.auth.signin import authenticate
from dispatch.auth.users import User, find_user_by_username
from dispatch.settings import get_settings
from workers.cli import app

runner = CliRunner()
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cli_on_test_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DISPATCH_DATABASE_URL", database_url)
    get_settings.cache_clear()  # the CLI reads settings once per process
    yield
    get_settings.cache_clear()


def test_users_add_then_list(unique: str) -> None:
    options = ["--password", "secret-123", "--role", "liaison", "--role", "supervisor"]
    binding = ["--department", "water", "--display-name", "李四"]
    added = runner.invoke(app, ["users", "add", f"li-{unique}", *options, *binding])
    assert added.exit_code == 0, added.output
    assert f"added li-{unique} (liaison, supervisor)" in added.output
    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0
    line = next(line for line in listed.output.splitlines() if f"li-{unique}" in line)
    assert "liaison,supervisor" in line and "water" in line and "李四" in line


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--role", "liaison"], "department: a liaison acts for one department"),
        (["--role", "boss"], "roles: unknown role 'boss'"),
        (["--role", "street"], "street: a street officer acts for one street"),
    ],
)
def test_users_add_fails_with_one_line(unique: str, arguments: list[str], reason: str) -> None:
    result = runner.invoke(
        app, ["users", "add", f"u-{unique}", "--password", "secret-123", *arguments]
    )
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: {reason}")


def test_users_add_refuses_a_taken_name(unique: str) -> None:
    command = ["users", "add", f"u-{unique}", "--password", "secret-123", "--role", "operator"]
    assert runner.invoke(app, command).exit_code == 0
    again = runner.invoke(app, command)
    assert again.exit_code == 1 and "is taken" in again.output


def test_apikeys_add_prints_a_working_key(engine: Engine, unique: str) -> None:
    result = runner.invoke(app, ["apikeys", "add", f"city-app-{unique}"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    with engine.connect() as conn:
        assert check_api_key(conn, key) == f"city-app-{unique}"


def add_operator(name: str) -> None:
    command = ["users", "add", name, "--password", "secret-123", "--role", "operator"]
    assert runner.invoke(app, command).exit_code == 0


def stored(engine: Engine, name: str) -> User:
    with engine.connect() as conn:
        user = find_user_by_username(conn, name)
    assert user is not None
    return user


def test_users_disable_and_enable_end_the_sessions_and_let_the_user_back(
    engine: Engine, unique: str
) -> None:
    add_operator(f"op-{unique}")
    before = stored(engine, f"op-{unique}")

    disabled = runner.invoke(app, ["users", "disable", f"op-{unique}"])
    enabled = runner.invoke(app, ["users", "enable", f"OP-{unique}"])

    assert disabled.exit_code == 0 and "sessions have ended" in disabled.output
    assert enabled.exit_code == 0, enabled.output
    after = stored(engine, f"op-{unique}")
    assert after.active and after.session_version > before.session_version
    assert authenticate(engine, f"op-{unique}", "secret-123", hasher=FAST) is not None


def test_users_set_roles_replaces_the_roles_and_binding(engine: Engine, unique: str) -> None:
    add_operator(f"op-{unique}")
    command = ["users", "set-roles", f"op-{unique}", "--role", "liaison", "--department", "water"]

    result = runner.invoke(app, command)

    assert result.exit_code == 0, result.output
    assert "liaison for water; sessions ended" in result.output
    user = stored(engine, f"op-{unique}")
    assert user.roles == {"liaison"} and user.department == "water"


def test_users_set_password_changes_it_and_ends_the_sessions(engine: Engine, unique: str) -> None:
    add_operator(f"op-{unique}")
    before = stored(engine, f"op-{unique}")

    result = runner.invoke(
        app, ["users", "set-password", f"op-{unique}", "--password", "new-pw-456"]
    )

    assert result.exit_code == 0, result.output
    assert stored(engine, f"op-{unique}").session_version > before.session_version
    assert authenticate(engine, f"op-{unique}", "new-pw-456", hasher=FAST) is not None
    assert authenticate(engine, f"op-{unique}", "secret-123", hasher=FAST) is None


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (["users", "disable", "nobody-{unique}"], "there is no user 'nobody-{unique}'"),
        (["users", "set-roles", "op-{unique}", "--role", "liaison"], "department: a liaison"),
        (["users", "set-roles", "op-{unique}", "--role", "boss"], "roles: unknown role 'boss'"),
        (["users", "set-password", "op-{unique}", "--password", "short"], "password: the password"),
        (["apikeys", "revoke", "nobody-{unique}"], "'nobody-{unique}' holds no live key"),
    ],
)
def test_admin_commands_fail_with_one_line(unique: str, command: list[str], reason: str) -> None:
    add_operator(f"op-{unique}")
    result = runner.invoke(app, [part.format(unique=unique) for part in command])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: {reason.format(unique=unique)}")


def test_apikeys_list_then_revoke_stops_the_key(engine: Engine, unique: str) -> None:
    key = runner.invoke(app, ["apikeys", "add", f"city-app-{unique}"]).stdout.strip()

    listed = runner.invoke(app, ["apikeys", "list"])
    revoked = runner.invoke(app, ["apikeys", "revoke", f"city-app-{unique}"])

    line = next(line for line in listed.output.splitlines() if f"city-app-{unique}" in line)
    assert line.rstrip().endswith("live") and key not in listed.output
    assert revoked.exit_code == 0 and "revoked 1 key(s)" in revoked.output
    with engine.connect() as conn:
        assert check_api_key(conn, key) is None
    relisted = runner.invoke(app, ["apikeys", "list"]).output
    assert "revoked" in next(line for line in relisted.splitlines() if f"city-app-{unique}" in line)
