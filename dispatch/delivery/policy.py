"""How hard a webhook delivery tries: attempts, back-off between them, and time limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class DeliveryPolicy:
    attempts: int = 6
    backoff: tuple[int, ...] = (10, 60, 300, 1800, 7200)  # seconds after attempt 1, 2, …
    timeout: float = 10.0
    lease: timedelta = timedelta(seconds=60)

    def delay_after(self, attempt: int) -> int:
        return self.backoff[min(attempt, len(self.backoff)) - 1] if self.backoff else 0


DEFAULT_POLICY = DeliveryPolicy()
