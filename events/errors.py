"""Errors the event store raises; callers translate them (409, 412, 503)."""


class EventStoreError(Exception):
    """Base of every error raised by the store."""


class ConcurrencyError(EventStoreError):
    """Another writer appended to the stream first; reload and decide again."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {stream_id!r} is at version {actual_version}, "
            f"not the expected {expected_version}; reload the stream and decide again"
        )


class UnknownEventType(EventStoreError):
    """A stored type has no registered class: register it, or an upcaster to a known one."""


class StoreUnavailable(EventStoreError):
    """The database could not be reached."""


class AppendNotFirst(EventStoreError):
    """On PostgreSQL an append must be its transaction's first write (see ``events.store``)."""
