"""What every handler is given: ``Handling`` (the log, the clock, the catalogue, intake's
records) and the ``Issuer`` (who sends the command, and how)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from dispatch.catalogue import Catalogue
from dispatch.handlers.actor import Actor
from dispatch.handlers.errors import NoCatalogue
from events import AppendResult, Event, Meta, RecordedEvent

Clock = Callable[[], datetime]
CatalogueSource = Callable[[], tuple[int, Catalogue] | None]


class EventLog(Protocol):
    """The two calls a handler makes on the log (``events.EventStore`` has them; tests pass
    an in-memory fake)."""

    def read_stream(self, stream_id: str) -> Sequence[RecordedEvent]: ...

    def append(
        self,
        stream_id: str,
        new_events: Sequence[Event],
        *,
        expected_version: int,
        meta: Meta,
        now: datetime | None = None,
    ) -> AppendResult: ...


class RememberedKey(NamedTuple):
    """An Idempotency-Key's case, and the fingerprint of the body that made it."""

    case_id: str
    fingerprint: str | None


class IntakeBook(Protocol):
    """What intake writes beside the case's first event: its number, the caller's personal
    data (kept in the vault, not the log) and the client's idempotency key."""

    def case_for_key(self, key: str) -> RememberedKey | None:
        """The case an earlier intake with this (user-scoped) key created, if any."""
        ...

    def next_case_no(self, local_day: str) -> str: ...

    def open_case(
        self,
        case_id: str,
        new_events: Sequence[Event],
        *,
        meta: Meta,
        now: datetime,
        reporter_ref: str | None,
        reporter: dict[str, str | bool | None],
        key: str | None,
        fingerprint: str | None = None,
    ) -> AppendResult:
        """Append the first events, the reporter and the key atomically; ``KeyTaken`` when
        a concurrent intake with the same key won."""
        ...


@dataclass(frozen=True)
class Handling:
    log: EventLog
    clock: Clock
    catalogue_source: CatalogueSource
    intake: IntakeBook

    def catalogue(self) -> tuple[int, Catalogue]:
        """The active catalogue and its number, or ``NoCatalogue`` (409) before one is loaded."""
        active = self.catalogue_source()
        if active is None:
            raise NoCatalogue()
        return active


@dataclass(frozen=True)
class Issuer:
    """Who sends a command, in which role, and on what terms.

    ``if_match`` is the case version the sender saw (412 when the case has moved on);
    ``command_id`` is the sender's id for the command: sent again, it appends nothing and
    answers as the first time did (for intake it is the client's ``Idempotency-Key``).
    """

    actor: Actor
    role: str
    if_match: int | None = None
    command_id: str | None = None
    correlation_id: str | None = None
