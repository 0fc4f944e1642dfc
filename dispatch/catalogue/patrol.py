"""三巡一查零报告: the patrol rounds a grid worker reports each day, and when each is due.

``patrol: {rounds: [{name: 早巡, by: "10:00"}, …]}`` in the catalogue; ``by`` is a local time
of day in the catalogue's timezone. A catalogue without rounds asks for no patrols, so loading
an older catalogue never makes every grid miss its rounds.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class PatrolRound(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=32)]
    by: str  # HH:MM, local

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if name != name.strip() or any(not char.isprintable() for char in name):
            raise ValueError(f"{name!r}: a round's name is plain text without outer spaces")
        return name

    @field_validator("by")
    @classmethod
    def _time_of_day(cls, clock: str) -> str:
        if not _CLOCK.match(clock):
            raise ValueError(f"{clock!r} is not a time of day; write HH:MM, e.g. '10:00'")
        return clock

    @property
    def by_time(self) -> time:
        hours, minutes = self.by.split(":")
        return time(int(hours), int(minutes))

    def due_at(self, day: date, zone: ZoneInfo) -> datetime:
        """The moment the round is due on ``day`` (aware, in ``zone``)."""
        return datetime.combine(day, self.by_time, tzinfo=zone)


class PatrolSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rounds: Annotated[list[PatrolRound], Field(max_length=12)] = []

    @field_validator("rounds")
    @classmethod
    def _distinct_and_in_order(cls, rounds: list[PatrolRound]) -> list[PatrolRound]:
        names = [r.name for r in rounds]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"round names must differ: {', '.join(twice)} listed twice")
        times = [r.by for r in rounds]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("list the rounds in the order of their 'by' times, each later")
        return rounds

    def round(self, name: str) -> PatrolRound | None:
        return next((r for r in self.rounds if r.name == name), None)
