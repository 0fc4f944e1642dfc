"""The secret key that signs tokens and sessions: long enough, and kept whole (§8.9)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from dispatch.settings import Settings, get_settings
from workers.cli import app


def test_a_too_short_secret_key_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(secret_key="only-31-bytes-long-so-refused!!")
    assert Settings(secret_key="x" * 32).secret_key == "x" * 32


def test_the_cli_refuses_a_too_short_secret_key_with_one_line(tmp_path: Path) -> None:
    env = {
        "DISPATCH_SECRET_KEY": "short",
        "DISPATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
    }
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["users", "list"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: DISPATCH_SECRET_KEY has 5 bytes; it needs at least 32")
    assert not (tmp_path / "never.db").exists()


def test_a_generated_key_is_written_whole_with_mode_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / ".dispatch-secret"
    path.parent.mkdir()

    first = Settings(secret_key_file=str(path)).secret_key
    second = Settings(secret_key_file=str(path)).secret_key

    assert first == second and len(first.encode()) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(path.parent) == [".dispatch-secret"]  # no temp file left behind


def test_a_key_file_too_short_to_trust_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / ".dispatch-secret"
    path.write_text("half-a-k")
    with pytest.raises(ValidationError, match=f"the key in {path} has 8 bytes"):
        Settings(secret_key_file=str(path))


def test_a_seal_key_must_be_as_long_and_an_empty_one_means_none() -> None:
    secret = "s" * 32
    with pytest.raises(ValidationError, match="DISPATCH_SEAL_KEY has 9 bytes"):
        Settings(secret_key=secret, seal_key="too short")
    assert Settings(secret_key=secret, seal_key="").seal_key is None
    assert Settings(secret_key=secret, seal_key="k" * 32).seal_key == "k" * 32
