"""The append-only event log: envelope, registry and upcasters, store, chain, checkpoints."""

from events.envelope import AppendResult, Event, Meta, RecordedEvent
from events.errors import ConcurrencyError, EventStoreError, StoreUnavailable, UnknownEventType
from events.registry import EventRegistry
from events.store import EventStore

__all__ = [
    "AppendResult",
    "ConcurrencyError",
    "Event",
    "EventRegistry",
    "EventStore",
    "EventStoreError",
    "Meta",
    "RecordedEvent",
    "StoreUnavailable",
    "UnknownEventType",
]
