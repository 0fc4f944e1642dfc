"""``dispatch users`` and ``dispatch apikeys`` against the session database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from dispatch.auth.apikeys import check_api_key
from dispatch.settings import get_settings
from workers.cli import app

runner = CliRunner()


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
