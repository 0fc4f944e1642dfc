"""Whether the backlog is within the limits an operator set (``DISPATCH_READY_MAX_*``).

A limit of 0 is off. A part that could not be measured is not judged here: the database and
Redis checks of ``/readyz`` already fail for it.
"""

from __future__ import annotations

from dispatch.ops.backlog import Backlog
from dispatch.settings import Settings

OK = "ok"


def lag_checks(backlog: Backlog, settings: Settings) -> dict[str, str]:
    checks: dict[str, str] = {}
    if settings.ready_max_relay_lag and backlog.relay_lag is not None:
        checks["relay_lag"] = _within(backlog.relay_lag, settings.ready_max_relay_lag, "events")
    if settings.ready_max_projection_lag and backlog.checkpoint_lag:
        name, lag = max(backlog.checkpoint_lag.items(), key=lambda item: item[1])
        verdict = _within(lag, settings.ready_max_projection_lag, "events")
        checks["projection_lag"] = verdict if verdict == OK else f"{name}: {verdict}"
    if settings.ready_max_queue_depth and backlog.queues:
        name, depth = max(backlog.queues.items(), key=lambda item: item[1])
        verdict = _within(depth, settings.ready_max_queue_depth, "jobs")
        checks["queue_depth"] = verdict if verdict == OK else f"{name}: {verdict}"
    return checks


def _within(value: int, limit: int, unit: str) -> str:
    return OK if value <= limit else f"{value} {unit} behind, limit {limit}"
