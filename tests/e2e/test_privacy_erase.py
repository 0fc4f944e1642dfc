"""Forgetting a reporter keeps every event and every hash as it was."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image
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


def unique_png() -> bytes:
    """A photo no other test uploads: content addressing would otherwise share its file."""
    buffer = io.BytesIO()
    colour = tuple(random.randrange(256) for _ in range(3))
    Image.new("RGB", (random.randrange(8, 64), 6), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def erase_with_cli(case_id, database_url, monkeypatch):
    monkeypatch.setenv("DISPATCH_DATABASE_URL", database_url)
    from dispatch.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, ["privacy", "erase", case_id])
    finally:
        get_settings.cache_clear()


def test_erasing_a_reporter_deletes_their_intake_photos_and_keeps_the_departments_evidence(
    client, login, app_container, database_url, monkeypatch
):
    operator = login("operator")
    body = {
        "category": "water.outage",
        "description": "楼道积水，附照片",
        "location": {"grid": "XYL-01"},
        "reporter": {"name": "王女士", "phone": "13800001111"},
    }
    case = client.post(f"{API}/cases", json=body, headers=operator).json()
    attachments = f"{API}/cases/{case['id']}/attachments"

    def upload(stage):
        sent = client.post(
            attachments,
            files={"file": ("photo.png", unique_png(), "image/png")},
            data={"stage": stage},
            headers=operator,
        )
        assert sent.status_code == 201, sent.text
        return sent.json()

    citizens, evidence = upload("intake"), upload("progress")
    raw = [e.as_json() for e in app_container.store.read_stream(case["id"])]
    media = app_container.media_store

    result = erase_with_cli(case["id"], database_url, monkeypatch)

    assert result.exit_code == 0, result.output
    assert "erased 1 intake photos" in result.output
    assert not media.exists(citizens["sha256"])
    assert not media.exists(citizens["sha256"], thumbnail=True)
    assert media.exists(evidence["sha256"])
    history = app_container.store.read_stream(case["id"])
    assert [e.as_json() for e in history[: len(raw)]] == raw
    assert [e.type for e in history[len(raw) :]] == ["AttachmentErased"]
    assert history[-1].data["sha256"] == citizens["sha256"]
    assert verify_log(app_container.engine).ok

    gone = client.get(f"{attachments}/{citizens['id']}", headers=operator)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert gone.json()["code"] == "attachment_erased"
    assert "privacy erase" in gone.json()["detail"]
    thumbnail = client.get(f"{attachments}/{citizens['id']}?thumbnail=1", headers=operator)
    assert thumbnail.status_code == 410
    assert client.get(f"{attachments}/{evidence['id']}", headers=operator).status_code == 200
    listed = {a["id"]: a for a in client.get(attachments, headers=operator).json()["items"]}
    assert listed[citizens["id"]]["erased_at"] is not None
    assert listed[evidence["id"]]["erased_at"] is None


def test_erasing_twice_appends_nothing_more(
    client, login, app_container, database_url, monkeypatch
):
    operator = login("operator")
    body = {"category": "water.outage", "description": "停水", "location": {"grid": "XYL-01"}}
    case = client.post(f"{API}/cases", json=body, headers=operator).json()
    client.post(
        f"{API}/cases/{case['id']}/attachments",
        files={"file": ("photo.png", unique_png(), "image/png")},
        data={"stage": "intake"},
        headers=operator,
    )
    assert erase_with_cli(case["id"], database_url, monkeypatch).exit_code == 0
    version = app_container.store.stream_version(case["id"])

    again = erase_with_cli(case["id"], database_url, monkeypatch)

    assert again.exit_code == 0, again.output
    assert "erased 0 intake photos" in again.output
    assert app_container.store.stream_version(case["id"]) == version
