"""The hash chain's inputs: canonical JSON and timestamps that do not depend on a driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from events.hashing import GENESIS, canonical_json, event_hash, seal_hash, timestamp_text

SHANGHAI = timezone(timedelta(hours=8))
MOMENT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def hash_of(**changes: Any) -> str:
    fields: dict[str, Any] = {
        "prev_hash": GENESIS,
        "stream_id": "case-1",
        "version": 1,
        "type": "CaseReceived",
        "schema_version": 1,
        "data": {"description": "停水", "urgency": "normal"},
        "meta": {"actor": "op-1", "command_id": "cmd-1"},
        "recorded_at": MOMENT,
    }
    return event_hash(**{**fields, **changes})


def test_canonical_json_does_not_depend_on_key_order() -> None:
    assert canonical_json({"b": 1, "a": {"y": 2, "x": 3}}) == canonical_json(
        {"a": {"x": 3, "y": 2}, "b": 1}
    )


def test_canonical_json_keeps_chinese_text_as_utf8() -> None:
    assert canonical_json({"name": "西一路"}) == '{"name":"西一路"}'.encode()


def test_the_same_event_always_hashes_the_same() -> None:
    assert hash_of() == hash_of()
    assert len(hash_of()) == 64


def test_changing_any_part_of_an_event_changes_its_hash() -> None:
    original = hash_of()
    changed = [
        hash_of(prev_hash="1" * 64),
        hash_of(stream_id="case-2"),
        hash_of(version=2),
        hash_of(type="CaseAnswered"),
        hash_of(schema_version=2),
        hash_of(data={"description": "停电", "urgency": "normal"}),
        hash_of(meta={"actor": "op-2", "command_id": "cmd-1"}),
        hash_of(recorded_at=MOMENT + timedelta(microseconds=1)),
    ]
    assert original not in changed
    assert len(set(changed)) == len(changed)


def test_a_timestamp_hashes_the_same_in_any_time_zone_or_naive_as_utc() -> None:
    in_shanghai = MOMENT.astimezone(SHANGHAI)
    naive_utc = MOMENT.replace(tzinfo=None)

    assert timestamp_text(in_shanghai) == timestamp_text(naive_utc) == "2026-03-01T09:30:15.123456"
    assert hash_of(recorded_at=in_shanghai) == hash_of(recorded_at=naive_utc) == hash_of()


def test_the_seal_depends_on_every_event_and_their_order() -> None:
    a, b = hash_of(), hash_of(version=2)

    assert seal_hash(seal_hash(GENESIS, a), b) != seal_hash(seal_hash(GENESIS, b), a)
    assert seal_hash(GENESIS, a) != seal_hash(seal_hash(GENESIS, a), b)
