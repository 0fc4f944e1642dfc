"""The append-only event log: envelope, registry and upcasters, store, chain, checkpoints.

``dispatch`` and ``workers`` use the names below; besides them, the modules ``database``
(engines), ``checkpoints``, ``vault`` (personal data), ``integrity`` (verify and seal the
chain) and ``types`` are public. The rest (``schema``, ``store``, ``scan``, ``hashing``, …) is
internal: import-linter forbids reaching into it.
"""

from events.envelope import AppendResult, Event, Meta, RecordedEvent, StreamAppend
from events.errors import ConcurrencyError, EventStoreError, StoreUnavailable, UnknownEventType
from events.hashing import GENESIS, event_hash
from events.registry import EventRegistry
from events.scan import decode, scan_streams
from events.schema import checkpoints as checkpoint_table
from events.schema import events as event_table
from events.schema import personal_data as personal_data_table
from events.store import EventStore, as_utc, derived_writes, safe_head

__all__ = [
    "GENESIS",
    "AppendResult",
    "ConcurrencyError",
    "Event",
    "EventRegistry",
    "EventStore",
    "EventStoreError",
    "Meta",
    "RecordedEvent",
    "StoreUnavailable",
    "StreamAppend",
    "UnknownEventType",
    "as_utc",
    "checkpoint_table",
    "decode",
    "derived_writes",
    "event_hash",
    "event_table",
    "personal_data_table",
    "safe_head",
    "scan_streams",
]
