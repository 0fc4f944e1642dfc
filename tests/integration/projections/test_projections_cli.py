"""``dispatch projections status`` and ``rebuild``, end to end on a database of their own."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from dispatch.settings import get_settings
from workers.cli import app


def run(database_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={"DISPATCH_DATABASE_URL": database_url})
    finally:
        get_settings.cache_clear()


def test_status_then_rebuild_then_status(scratch_database_url: str) -> None:
    status = run(scratch_database_url, "projections", "status")
    assert status.exit_code == 0, status.output
    assert "case_list" in status.output

    rebuilt = run(scratch_database_url, "projections", "rebuild", "case_list")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "case_list: rebuilt from" in rebuilt.output


def test_an_unknown_projection_is_named_in_a_one_line_error(scratch_database_url: str) -> None:
    result = run(scratch_database_url, "projections", "rebuild", "nope")
    assert result.exit_code == 1
    assert "unknown projection 'nope'" in result.output
