"""A monotonic clock a test moves by hand (``clock.now += 1.5``), for code that takes a
``clock: Callable[[], float]`` such as ``time.monotonic``."""

from __future__ import annotations


class HandClock:
    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
