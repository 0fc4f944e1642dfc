"""Process-wide Prometheus counters (the default registry).

The backlog gauges are measured at scrape time (``dispatch.api.routes.metrics``); these count
what happened in this process since it started.
"""

from __future__ import annotations

from prometheus_client import Counter

REQUESTS_SHED = Counter(
    "dispatch_requests_shed_total",
    "Commands refused with 503 because none could start within the admission budget",
)
