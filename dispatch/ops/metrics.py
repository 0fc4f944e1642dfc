"""The metrics this process counts itself, in one registry (``/metrics`` adds them to the
gauges it measures at scrape time in ``dispatch.api.routes.metrics``).

Only what happens inside one API process is counted here: requests, their latency, requests
shed. Whatever the workers and the scheduler do (deliveries, SLA warnings, dead letters, lag)
is measured from the database and Redis when Prometheus scrapes, so it survives restarts,
needs no push from short-lived processes, and is the same whichever API host is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.process_collector import ProcessCollector

PROCESS = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=PROCESS)

UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "dispatch_http_requests",
    "HTTP requests answered, by method, route template (never the raw path) and status",
    ["method", "route", "status"],
    registry=PROCESS,
)
LATENCY = Histogram(
    "dispatch_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=PROCESS,
)
# Incremented by the admission limit in front of commands: each 503 it answers instead of
# queueing the request (DESIGN.md §8.10).
SHED = Counter(
    "dispatch_requests_shed",
    "Requests refused with 503 by the admission limit instead of being queued",
    registry=PROCESS,
)
