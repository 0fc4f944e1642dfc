"""The event vocabulary's base class and the envelope a stored event travels in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of every domain event: frozen, explicit, one class per type.

    Subclasses set ``type`` (the stored name, a contract kept for years) and bump
    ``schema_version`` when their shape changes, registering an upcaster for the old one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Meta:
    """Who caused an append and why; stored beside every event of the append."""

    actor: str
    role: str
    command_id: str
    correlation_id: str | None = None
    causation_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "actor": self.actor,
            "role": self.role,
            "command_id": self.command_id,
            "correlation_id": self.correlation_id or self.command_id,
            "causation_id": self.causation_id,
        }
        data.update(self.extra)
        return data


@dataclass(frozen=True)
class RecordedEvent:
    """One row of the log as read back: the raw payload plus its place in the log."""

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    meta: dict[str, Any]
    recorded_at: datetime
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "stream_id": self.stream_id,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "data": self.data,
            "meta": self.meta,
            "recorded_at": self.recorded_at.isoformat(),
            "hash": self.hash,
        }


@dataclass(frozen=True)
class StreamAppend:
    """One stream's part of ``EventStore.append_many``: its new events after
    ``expected_version`` (0 for a new stream), under ``meta`` (its own command id)."""

    stream_id: str
    events: Sequence[Event]
    expected_version: int
    meta: Meta


@dataclass(frozen=True)
class AppendResult:
    """What an append did: the versions and positions written, or the original ones."""

    stream_id: str
    first_version: int
    last_version: int
    last_position: int
    duplicate: bool = False
