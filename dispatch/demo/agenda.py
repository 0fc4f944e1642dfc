"""The demo's time machine: a clock the generator moves, an agenda of things to do, the cast.

The handlers read the time from the container's clock, and the store records it on every
event, so running the agenda in time order writes a month of history whose positions and
``recorded_at`` agree. Anything due at or after ``end`` (now) is simply never done: those
cases are still open when the demo starts.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue
from dispatch.domain.case import DomainError
from dispatch.handlers import ApplicationError, CommandResult, Issuer, SystemActor
from events import ConcurrencyError


class DemoClock:
    """The container's clock during generation; ``now`` only ever moves forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


Progress = Callable[[datetime], None]


class Agenda:
    def __init__(self, clock: DemoClock, end: datetime) -> None:
        self.clock = clock
        self.end = end
        self._queue: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self.done = 0

    def at(self, when: datetime, action: Callable[..., None], *args: Any) -> None:
        when = max(when, self.clock.now)
        if when < self.end:
            heapq.heappush(self._queue, (when, next(self._order), action, args))

    def run(self, *, every: timedelta | None = None, report: Progress | None = None) -> None:
        """Do everything in time order; call ``report(now)`` each time ``every`` has passed."""
        next_report = self.clock.now + every if every else None
        while self._queue:
            when, _order, action, args = heapq.heappop(self._queue)
            if next_report is not None and report is not None and when >= next_report:
                report(when)
                next_report = when + (every or timedelta(0))
            self.clock.now = when
            action(*args)
            self.done += 1


def cast(role: str, username: str, **scope: str) -> SystemActor:
    return SystemActor(username=username, roles=frozenset({role}), **scope)


OPERATOR = cast("operator", "operator")
DISPATCHER = cast("dispatcher", "dispatcher")
SUPERVISOR = cast("supervisor", "supervisor")
CITY_APP = SystemActor(username="open311:江州市民通", roles=frozenset({"open311"}))


def liaison(department: str) -> SystemActor:
    return cast("liaison", f"{department}-liaison", department=department)


def street_officer(street: str) -> SystemActor:
    return cast("street", f"{street.lower()}-street", street=street)


class World:
    """What every part of the story shares: the container, the clock, the dice, the tally."""

    def __init__(
        self,
        container: Container,
        clock: DemoClock,
        agenda: Agenda,
        rng: random.Random,
        catalogue: Catalogue,
    ) -> None:
        self.container = container
        self.clock = clock
        self.agenda = agenda
        self.rng = rng
        self.catalogue = catalogue
        self.tally: Counter[str] = Counter()
        self.departments: dict[str, str] = {}  # task id → department, to act as its liaison
        self.refusals: list[str] = []  # why commands were refused, for the curious
        self.frozen: set[str] = set()  # merged or parked cases: their departments stop work
        self.withdrawn: set[str] = set()  # tasks the centre cancelled

    def send(self, target: str, command: object, actor: SystemActor, role: str) -> CommandResult:
        """Run a command as ``actor``, the way the API and the console do."""
        return self.container.handle(target, command, Issuer(actor=actor, role=role))

    def attempt(self, what: str, command: Callable[[], CommandResult]) -> CommandResult | None:
        """Run a command; a refusal (the case moved on meanwhile) is counted, not fatal."""
        try:
            result = command()
        except (DomainError, ApplicationError, ConcurrencyError) as error:
            self.tally[f"refused {what}"] += 1
            self.refusals.append(f"{what}: {error}")
            return None
        self.tally[what] += 1
        return result

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def in_minutes(self, low: float, high: float) -> datetime:
        return self.clock.now + timedelta(minutes=self.rng.uniform(low, high))

    def in_hours(self, low: float, high: float) -> datetime:
        return self.clock.now + timedelta(hours=self.rng.uniform(low, high))
