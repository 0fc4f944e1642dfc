"""Durations as the catalogue writes them: ``30m``, ``24h`` (clock), ``4wh``, ``2wd`` (working).

``m`` and ``h`` are clock time and ignore the calendar; ``wh`` counts working hours inside the
working periods of working days; ``wd`` counts whole working days (see ``workcalendar``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer

Unit = Literal["m", "h", "wh", "wd"]

_PATTERN = re.compile(r"^\s*(\d+)\s*(m|h|wh|wd)\s*$")

# Caps keep a typo ("700wd") from producing a deadline decades away and a long calendar walk.
LIMITS: dict[str, int] = {"m": 60 * 24 * 366, "h": 24 * 366, "wh": 8 * 366, "wd": 366}
UNIT_WORDS = {"m": "minutes", "h": "hours", "wh": "working hours", "wd": "working days"}


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: Unit

    @property
    def is_clock(self) -> bool:
        return self.unit in ("m", "h")

    def clock(self) -> timedelta:
        """The clock length of an ``m``/``h`` duration."""
        if self.unit == "m":
            return timedelta(minutes=self.amount)
        if self.unit == "h":
            return timedelta(hours=self.amount)
        raise ValueError(f"{self} is counted on the working calendar, not the clock")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(value: object) -> Duration:
    if isinstance(value, Duration):
        return value
    text = str(value) if isinstance(value, str | int) else ""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"{value!r} is not a duration; write a whole number and a unit: "
            "m (minutes), h (hours), wh (working hours) or wd (working days), e.g. 24h or 2wd"
        )
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    if amount > LIMITS[unit]:
        raise ValueError(f"{value!r} is too long: at most {LIMITS[unit]}{unit}")
    return Duration(amount, unit)  # type: ignore[arg-type]


DurationField = Annotated[
    Duration,
    BeforeValidator(parse_duration),
    PlainSerializer(str, return_type=str),
]
