"""Hand-written fakes for the handler tests: no database, no Redis, no wall clock.

``FakeLog`` is an in-memory event log that keeps the store's promises — ``expected_version``
is checked, a command id already in the log appends nothing and answers as the first time —
and can be told to lose a race: ``lose_next_race(with_events=[...])`` lets a rival append those
events just before the handler's next append, which then raises ``ConcurrencyError``. It also
keeps intake's records (numbers, idempotency keys, the reporter vault).

Imported by name (``from fakes import FakeLog``): pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.catalogue import Catalogue, parse_catalogue
from dispatch.handlers import Handling, SystemActor
from dispatch.handlers.errors import KeyTaken
from dispatch.handlers.handling import RememberedKey
from events import AppendResult, ConcurrencyError, Event, Meta, RecordedEvent

SAMPLE = Path(__file__).parents[1] / "dispatch" / "catalogue" / "samples" / "sample.yaml"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, far from any holiday
RIVAL = Meta(actor="rival", role="system", command_id="rival")


class FakeLog:
    def __init__(self) -> None:
        self.streams: dict[str, list[RecordedEvent]] = {}
        self.commands: dict[str, AppendResult] = {}
        self.position = 0
        self.rivals: list[Sequence[Event]] = []
        self.keys: dict[str, RememberedKey] = {}
        self.vault: dict[str, dict[str, str | bool | None]] = {}
        self.numbers = 0

    # -- the log ----------------------------------------------------------------------------

    def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        return list(self.streams.get(stream_id, []))

    def append(
        self,
        stream_id: str,
        new_events: Sequence[Event],
        *,
        expected_version: int,
        meta: Meta,
        now: datetime | None = None,
    ) -> AppendResult:
        if meta.command_id in self.commands:
            return replace(self.commands[meta.command_id], duplicate=True)
        if self.rivals:
            rival = self.rivals.pop(0)
            self._write(stream_id, rival, RIVAL, now or T0)
        actual = len(self.streams.get(stream_id, []))
        if actual != expected_version:
            raise ConcurrencyError(stream_id, expected_version, actual)
        result = self._write(stream_id, new_events, meta, now or T0)
        self.commands[meta.command_id] = result
        return result

    def lose_next_race(self, *, with_events: Sequence[Event], times: int = 1) -> None:
        """The next ``times`` appends each find a rival's ``with_events`` landed first."""
        self.rivals.extend([list(with_events)] * times)

    def events(self, stream_id: str) -> list[str]:
        return [recorded.type for recorded in self.streams.get(stream_id, [])]

    def _write(
        self, stream_id: str, new_events: Sequence[Event], meta: Meta, now: datetime
    ) -> AppendResult:
        stream = self.streams.setdefault(stream_id, [])
        first = len(stream) + 1
        for event in new_events:
            self.position += 1
            stream.append(
                RecordedEvent(
                    position=self.position,
                    stream_id=stream_id,
                    version=len(stream) + 1,
                    type=event.type,
                    schema_version=event.schema_version,
                    data=event.payload(),
                    meta=meta.as_dict(),
                    recorded_at=now,
                    prev_hash="",
                    hash="",
                )
            )
        return AppendResult(stream_id, first, len(stream), self.position)

    # -- intake's records -------------------------------------------------------------------

    def case_for_key(self, key: str) -> RememberedKey | None:
        return self.keys.get(key)

    def next_case_no(self, local_day: str) -> str:
        self.numbers += 1
        return f"{local_day}-{self.numbers:05d}"

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
        if key is not None and key in self.keys:
            raise KeyTaken(*self.keys[key])
        result = self.append(case_id, new_events, expected_version=0, meta=meta, now=now)
        if reporter_ref is not None:
            self.vault[reporter_ref] = reporter
        if key is not None:
            self.keys[key] = RememberedKey(case_id, fingerprint)
        return result


class FixedClock:
    """Always ``now``, until a test moves it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sample_catalogue() -> Catalogue:
    return parse_catalogue(SAMPLE.read_text(encoding="utf-8"))


def fake_handling(
    log: FakeLog | None = None, *, clock: FixedClock | None = None, catalogue: bool = True
) -> Handling:
    """Handlers over a fresh ``FakeLog``, a fixed clock and the sample catalogue (version 1)."""
    log = log or FakeLog()
    active = (1, sample_catalogue()) if catalogue else None
    return Handling(
        log=log, clock=clock or FixedClock(), catalogue_source=lambda: active, intake=log
    )


def person(role: str, **scope: Any) -> SystemActor:
    """Someone holding ``role``, bound to ``department=`` or ``street=`` as the role needs."""
    name = "-".join([role, *(str(value) for value in scope.values())])
    return SystemActor(username=name, roles=frozenset({role}), **scope)
