"""Old event shapes are read through upcasters; stored rows are never rewritten (§2.6)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from events import Event, EventRegistry, EventStore, Meta


class DeadlineSetV1(Event):
    """How the event looked when it was written: hours only."""

    type: ClassVar[str] = "test.deadline_set"
    schema_version: ClassVar[int] = 1
    hours: int


class DeadlineSet(Event):
    """Today's shape: a duration with its unit."""

    type: ClassVar[str] = "test.deadline_set"
    schema_version: ClassVar[int] = 2
    amount: int
    unit: str


def current_registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register(DeadlineSet)

    @registry.upcaster("test.deadline_set", from_version=1)
    def hours_to_amount(data: dict[str, Any]) -> dict[str, Any]:
        return {"amount": data["hours"], "unit": "h"}

    return registry


def test_an_event_stored_at_an_old_schema_version_is_read_as_the_current_class(
    store: EventStore, unique: str
) -> None:
    stream = f"case-old-{unique}"
    store.append(
        stream,
        [DeadlineSetV1(hours=24)],
        expected_version=0,
        meta=Meta(actor="op-1", role="operator", command_id=uuid.uuid4().hex),
    )

    (recorded,) = store.read_stream(stream)
    event = current_registry().decode(recorded)

    assert event == DeadlineSet(amount=24, unit="h")
    assert (recorded.schema_version, recorded.data) == (1, {"hours": 24})
    assert store.read_stream(stream) == [recorded]


def test_an_event_stored_at_the_current_schema_version_is_read_unchanged(
    store: EventStore, unique: str
) -> None:
    stream = f"case-new-{unique}"
    store.append(
        stream,
        [DeadlineSet(amount=7, unit="wd")],
        expected_version=0,
        meta=Meta(actor="op-1", role="operator", command_id=uuid.uuid4().hex),
    )

    (recorded,) = store.read_stream(stream)

    assert recorded.schema_version == 2
    assert current_registry().decode(recorded) == DeadlineSet(amount=7, unit="wd")
