"""Capacity: the highest offered rate a service keeps within its latency bar with no errors.

Open loop, step by step: offer ``rates[0]`` per second for a few seconds, then the next rate,
and stop after the first step that fails (p99 above the bar, or any error). A failing step is
offered twice more (``retries``) before it counts: on a shared machine a neighbour's burst can
fail one step or two in a row (seen: the minimal endpoint failing 100/s twice, then passing
500/s), while a real limit fails every time. Optionally the gap between the last pass and
the first fail is halved ``refine`` times. A service that passes every step is reported at the
last rate, marked ``capped``: the client, not the service, set the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

RATES = (5, 10, 25, 50, 75, 100, 125, 150, 200, 250, 300, 400, 500, 600, 800)
P99_LIMIT_S = 0.050


@dataclass(frozen=True)
class Step:
    rate: float
    offered: int
    answered: int  # 2xx answers
    errors: int  # anything else: another status, a refused or timed-out connection
    p50_s: float | None
    p99_s: float | None
    error_kinds: dict[str, int] = field(default_factory=dict)

    def passed(self, limit_s: float = P99_LIMIT_S) -> bool:
        return (
            self.errors == 0
            and self.answered == self.offered
            and self.p99_s is not None
            and self.p99_s <= limit_s
        )


@dataclass(frozen=True)
class Capacity:
    rate: float  # 0 when even the first step failed
    capped: bool
    steps: list[Step]
    limit_s: float = P99_LIMIT_S

    def as_json(self) -> dict[str, Any]:
        return {
            "capacity_per_s": self.rate,
            "capped": self.capped,
            "p99_limit_ms": self.limit_s * 1000,
            "steps": [asdict(step) | {"passed": step.passed(self.limit_s)} for step in self.steps],
        }


def find_capacity(
    measure: Callable[[float], Step],
    rates: Sequence[float] = RATES,
    *,
    refine: int = 1,
    retries: int = 2,
    limit_s: float = P99_LIMIT_S,
) -> Capacity:
    """Step up through ``rates`` with ``measure(rate)``; see the module's docstring."""
    steps: list[Step] = []

    def passes(rate: float) -> bool:
        for _ in range(1 + retries):
            steps.append(measure(rate))
            if steps[-1].passed(limit_s):
                return True
        return False

    best = 0.0
    failed_at: float | None = None
    for rate in rates:
        if not passes(rate):
            failed_at = rate
            break
        best = rate
    if failed_at is None:
        return Capacity(rate=best, capped=True, steps=steps, limit_s=limit_s)
    low, high = best, failed_at
    for _ in range(refine):
        middle = round((low + high) / 2)
        if middle <= low or middle >= high:
            break
        if passes(middle):
            low = middle
        else:
            high = middle
    return Capacity(rate=low, capped=False, steps=steps, limit_s=limit_s)
