"""Personal data stays out of the hashed log, so a person can be forgotten (DESIGN §2.7)."""

from __future__ import annotations

import uuid
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events import Event, EventStore, Meta
from events.integrity import verify_log
from events.vault import (
    erase_personal_data,
    load_personal_data,
    new_ref,
    store_personal_data,
)

NAME, PHONE = "张三", "13800138000"


class ComplaintTaken(Event):
    type: ClassVar[str] = "test.complaint_taken"
    description: str
    reporter_ref: str


def take_complaint(store: EventStore, stream: str) -> str:
    """Store the event and the reporter in one transaction (the append first, as intake
    does: see events.store on safe tailing); return the reporter's ref."""
    ref = new_ref()
    with store.transaction() as conn:
        store.append(
            stream,
            [ComplaintTaken(description="no water since morning", reporter_ref=ref)],
            expected_version=0,
            meta=Meta(actor="op-1", role="operator", command_id=uuid.uuid4().hex),
            conn=conn,
        )
        store_personal_data(conn, {"name": NAME, "phone": PHONE}, ref=ref)
    return ref


def rows_mentioning(engine: Engine, text: str) -> int:
    query = sa.text(
        "SELECT count(*) FROM events "
        "WHERE CAST(data AS TEXT) LIKE :pattern OR CAST(meta AS TEXT) LIKE :pattern"
    )
    with engine.connect() as conn:
        return conn.execute(query, {"pattern": f"%{text}%"}).scalar_one()


def test_a_reporters_name_and_phone_never_reach_the_events_table(
    scratch_engine: Engine,
) -> None:
    store = EventStore(scratch_engine)

    ref = take_complaint(store, "case-water")

    assert rows_mentioning(scratch_engine, PHONE) == 0
    assert rows_mentioning(scratch_engine, NAME) == 0
    assert store.read_stream("case-water")[0].data["reporter_ref"] == ref
    with scratch_engine.connect() as conn:
        assert load_personal_data(conn, [ref]) == {ref: {"name": NAME, "phone": PHONE}}


def test_erasing_a_reporter_forgets_them_and_the_log_still_verifies(
    scratch_engine: Engine,
) -> None:
    store = EventStore(scratch_engine)
    ref = take_complaint(store, "case-water")
    before = store.read_stream("case-water")

    with store.transaction() as conn:
        assert erase_personal_data(conn, ref)

    with scratch_engine.connect() as conn:
        assert load_personal_data(conn, [ref]) == {ref: None}
    assert store.read_stream("case-water") == before
    report = verify_log(scratch_engine)
    assert report.ok, report.problems
    assert report.events_checked == 1


def test_erasing_an_unknown_reporter_says_so(scratch_engine: Engine) -> None:
    with scratch_engine.begin() as conn:
        assert erase_personal_data(conn, "pd_unknown") is False
