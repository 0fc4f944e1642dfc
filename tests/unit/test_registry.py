"""The registry maps stored type names to classes and upcasts old payloads, step by step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from events import Event, EventRegistry, RecordedEvent, UnknownEventType


class TaskReturnRequested(Event):
    """v1 had a free-text ``why``; v2 split out a reason code; v3 added the legal basis."""

    type: ClassVar[str] = "test.task_return_requested"
    schema_version: ClassVar[int] = 3
    reason: str
    note: str
    basis: str | None


def registry_with_upcasters() -> EventRegistry:
    registry = EventRegistry()
    registry.register(TaskReturnRequested)

    @registry.upcaster(TaskReturnRequested.type, from_version=1)
    def split_reason(data: dict[str, Any]) -> dict[str, Any]:
        return {"reason": "other", "note": data["why"]}

    @registry.upcaster(TaskReturnRequested.type, from_version=2)
    def add_basis(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "basis": None}

    return registry


def recorded(type_name: str, schema_version: int, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        position=1,
        stream_id="case-1",
        version=1,
        type=type_name,
        schema_version=schema_version,
        data=data,
        meta={},
        recorded_at=datetime(2026, 1, 5, tzinfo=UTC),
        prev_hash="0" * 64,
        hash="f" * 64,
    )


def test_an_old_payload_is_upcast_through_every_step_to_the_current_class() -> None:
    old = recorded(TaskReturnRequested.type, 1, {"why": "not our road"})

    event = registry_with_upcasters().decode(old)

    assert event == TaskReturnRequested(reason="other", note="not our road", basis=None)


def test_upcasting_leaves_the_recorded_payload_untouched() -> None:
    old = recorded(TaskReturnRequested.type, 1, {"why": "not our road"})

    registry_with_upcasters().decode(old)

    assert old.data == {"why": "not our road"}


def test_a_current_payload_is_decoded_without_upcasting() -> None:
    data = {"reason": "territory", "note": "next street", "basis": "grid map"}

    event = registry_with_upcasters().decode(recorded(TaskReturnRequested.type, 3, data))

    assert event == TaskReturnRequested(**data)


def test_a_missing_upcaster_step_is_an_unknown_event_type() -> None:
    registry = EventRegistry()
    registry.register(TaskReturnRequested)

    with pytest.raises(UnknownEventType, match="v1 has no upcaster to v2"):
        registry.decode(recorded(TaskReturnRequested.type, 1, {"why": "x"}))


def test_an_unregistered_type_is_an_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match="never_registered"):
        EventRegistry().decode(recorded("test.never_registered", 1, {}))


def test_a_type_name_cannot_be_registered_to_two_classes() -> None:
    registry = EventRegistry()
    registry.register(TaskReturnRequested)

    class Impostor(Event):
        type: ClassVar[str] = TaskReturnRequested.type

    with pytest.raises(ValueError, match="already registered"):
        registry.register(Impostor)
    assert registry.register(TaskReturnRequested) is TaskReturnRequested
    assert registry.types() == [TaskReturnRequested.type]
