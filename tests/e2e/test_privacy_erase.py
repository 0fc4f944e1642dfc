"""Forgetting a reporter keeps every event and every hash as it was."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from events.integrity import verify_log
from workers.cli import app as cli

API = "/api/v1"

pytestmark = pytest.mark.usefixtures("sample_catalogue")


def test_erasing_a_reporter_forgets_name_and_phone_and_the_chain_still_verifies(
    client, login, app_container, database_url, monkeypatch
):
    operator = login("operator")
    body = {
        "category": "water.outage",
        "description": "停水三天",
        "location": {"grid": "XYL-01"},
        "reporter": {"name": "李先生", "phone": "13912345678"},
    }
    case = client.post(f"{API}/cases", json=body, headers=operator).json()
    raw = [e.as_json() for e in app_container.store.read_stream(case["id"])]
    assert "13912345678" not in str(raw) and "李先生" not in str(raw)

    monkeypatch.setenv("DISPATCH_DATABASE_URL", database_url)
    from dispatch.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["privacy", "erase", case["id"]])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert case["case_no"] in result.output

    shown = client.get(f"{API}/cases/{case['id']}", headers=operator).json()
    assert shown["reporter"] == {"name": None, "phone": None, "confidential": False}
    assert [e.as_json() for e in app_container.store.read_stream(case["id"])] == raw
    assert verify_log(app_container.engine).ok


def test_erasing_an_unknown_case_fails_with_one_line(database_url, monkeypatch):
    monkeypatch.setenv("DISPATCH_DATABASE_URL", database_url)
    from dispatch.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["privacy", "erase", "no-such-case"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "no case with id" in result.output
