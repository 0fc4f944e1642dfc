"""Derived appends (a worker's jobs) commit without waiting for the disk; intake always waits."""

from __future__ import annotations

import uuid
from typing import ClassVar

import pytest
import sqlalchemy as sa

from events import Event, EventStore, Meta, derived_writes


class NoteDerived(Event):
    type: ClassVar[str] = "test.note_derived"
    text: str


def flush_wait_after_append(store: EventStore) -> str:
    """``synchronous_commit`` inside a transaction right after its append."""
    meta = Meta(actor="worker", role="system", command_id=uuid.uuid4().hex)
    with store.transaction() as conn:
        store.append(
            uuid.uuid4().hex, [NoteDerived(text="routed")], expected_version=0, meta=meta, conn=conn
        )
        return str(conn.execute(sa.text("SHOW synchronous_commit")).scalar())


@pytest.mark.postgres_only
def test_an_append_inside_derived_writes_commits_without_waiting_for_the_flush(
    store: EventStore,
) -> None:
    with derived_writes():
        assert flush_wait_after_append(store) == "off"


@pytest.mark.postgres_only
def test_an_append_outside_derived_writes_waits_for_the_flush(store: EventStore) -> None:
    assert flush_wait_after_append(store) == "on"
    with derived_writes():
        pass
    assert flush_wait_after_append(store) == "on"  # the context ends with its block


def test_a_derived_append_is_in_the_log_like_any_other(store: EventStore) -> None:
    stream = uuid.uuid4().hex
    meta = Meta(actor="worker", role="system", command_id=uuid.uuid4().hex)
    with derived_writes():
        store.append(stream, [NoteDerived(text="routed")], expected_version=0, meta=meta)
    assert [e.data["text"] for e in store.read_stream(stream)] == ["routed"]
