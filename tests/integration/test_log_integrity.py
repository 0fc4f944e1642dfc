"""Tamper evidence: ``dispatch verify`` walks the hash chains and the seals of a real log.

Each test forges rows behind the triggers' back in a throwaway database of its own, then runs
the real CLI against it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import sqlalchemy as sa
from click.testing import Result
from sqlalchemy.engine import Connection, Engine
from typer.testing import CliRunner

from dispatch.settings import get_settings
from events import AppendResult, Event, EventStore, Meta
from workers.cli import app


class PotholeReported(Event):
    type: ClassVar[str] = "test.pothole_reported"
    description: str


def report(store: EventStore, stream: str, *descriptions: str) -> AppendResult:
    return store.append(
        stream,
        [PotholeReported(description=text) for text in descriptions],
        expected_version=store.stream_version(stream),
        meta=Meta(actor="op-1", role="operator", command_id=uuid.uuid4().hex),
    )


def dispatch_cli(database_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={"DISPATCH_DATABASE_URL": database_url})
    finally:
        get_settings.cache_clear()


@contextmanager
def forging(engine: Engine) -> Iterator[Connection]:
    """A transaction with the append-only triggers out of the way until it commits."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
            yield conn
            conn.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER USER")
            return
        triggers = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
        ).all()
        assert triggers, "the append-only triggers are missing"
        for name, _sql in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        yield conn
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)


def change_bytes(conn: Connection, position: int, old: str, new: str) -> None:
    """Replace text inside one stored event's JSON payload, as an attacker with SQL would."""
    data = "replace(data::text, :old, :new)::json"
    if conn.dialect.name == "sqlite":
        data = "replace(data, :old, :new)"
    changed = conn.execute(
        sa.text(f"UPDATE events SET data = {data} WHERE position = :p"),
        {"old": old, "new": new, "p": position},
    )
    assert changed.rowcount == 1


def test_an_untouched_log_verifies(scratch_database_url: str, scratch_engine: Engine) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "pothole", "still a pothole")
    report(store, "case-b", "broken lamp")

    result = dispatch_cli(scratch_database_url, "verify")

    assert result.exit_code == 0, result.output
    assert "ok: 3 events" in result.output


def test_a_byte_changed_in_a_stored_event_fails_verify_naming_that_event(
    scratch_database_url: str, scratch_engine: Engine
) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "pothole on Changan Road", "deep pothole")
    bad = report(store, "case-b", "lamp out on Xiyi Road")
    report(store, "case-a", "pothole filled")
    report(store, "case-b", "lamp fixed")

    with forging(scratch_engine) as conn:
        change_bytes(conn, bad.last_position, "Xiyi", "Xiyj")
    result = dispatch_cli(scratch_database_url, "verify")

    assert result.exit_code != 0
    assert f"event position {bad.last_position} (stream case-b v1)" in result.output
    assert "hash does not match its content" in result.output


def test_an_event_deleted_from_the_middle_of_a_stream_fails_verify(
    scratch_database_url: str, scratch_engine: Engine
) -> None:
    store = EventStore(scratch_engine)
    written = report(store, "case-a", "reported", "signed", "replied")

    with forging(scratch_engine) as conn:
        conn.execute(sa.text("DELETE FROM events WHERE stream_id = 'case-a' AND version = 2"))
    result = dispatch_cli(scratch_database_url, "verify")

    assert result.exit_code != 0
    assert f"event position {written.last_position} (stream case-a v3)" in result.output
    assert "events are missing" in result.output


def test_a_whole_stream_deleted_after_a_seal_is_noticed_through_the_seal(
    scratch_database_url: str, scratch_engine: Engine
) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "reported", "signed")
    report(store, "case-b", "reported")
    report(store, "case-c", "reported", "replied")
    sealed = dispatch_cli(scratch_database_url, "verify", "--seal")
    assert sealed.exit_code == 0, sealed.output
    assert "sealed at position" in sealed.output

    with forging(scratch_engine) as conn:
        conn.execute(sa.text("DELETE FROM events WHERE stream_id = 'case-b'"))
    result = dispatch_cli(scratch_database_url, "verify")

    assert result.exit_code != 0
    assert "seal #1" in result.output
    assert "events were removed or rewritten" in result.output


def test_a_sealed_log_that_grew_afterwards_still_verifies(
    scratch_database_url: str, scratch_engine: Engine
) -> None:
    store = EventStore(scratch_engine)
    report(store, "case-a", "reported")
    assert dispatch_cli(scratch_database_url, "verify", "--seal").exit_code == 0
    report(store, "case-a", "signed")
    report(store, "case-b", "reported")

    result = dispatch_cli(scratch_database_url, "verify", "--seal")

    assert result.exit_code == 0, result.output
    assert "ok: 3 events, 1 seals verified" in result.output
    assert dispatch_cli(scratch_database_url, "verify").output.startswith("ok: 3 events, 2 seals")
