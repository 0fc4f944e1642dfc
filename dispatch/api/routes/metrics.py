"""Prometheus ``/metrics``, for the metrics token or a loopback caller only
(``dispatch.api.observers``).

Two kinds of metric: what this API process counted itself (``dispatch_*``: requests by route
template and status, latency, requests shed; ``dispatch.ops.metrics``), and the state of the
whole installation measured from the database and Redis at scrape time (``street_whistle_*``:
queue depths, relay and projection lag, dead letters, deliveries by kind and result, SLA
warnings raised). The second kind covers what the workers and the scheduler do, so those
processes need no metrics endpoint of their own and nothing is lost when one restarts.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dispatch.api.deps import ContainerDep
from dispatch.api.observers import require_observer
from dispatch.ops.backlog import Backlog, measure
from dispatch.ops.metrics import PROCESS

router = APIRouter(tags=["health"])
PREFIX = "street_whistle"


class ProcessCollector(Collector):
    """What this process counted (``dispatch.ops.metrics``), beside the scrape-time gauges."""

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS.collect()


class BacklogCollector(Collector):
    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[Metric]:
        b = self.backlog
        if b.head is not None:
            yield _gauge("log_head_position", "Position of the newest event in the log", b.head)
        if b.relay_lag is not None:
            yield _gauge("relay_lag_events", "Events not relayed yet (head - relay)", b.relay_lag)
        yield _labelled(
            "checkpoint_lag_events",
            "Events each projection or timer fold is behind the head of the log",
            "checkpoint",
            b.checkpoint_lag,
        )
        if b.dead_letters is not None:
            yield _gauge("dead_letters", "Dead letters waiting for a dispatcher", b.dead_letters)
        yield _labelled("deliveries", "Task deliveries by state", "state", b.deliveries)
        by_kind = GaugeMetricFamily(
            f"{PREFIX}_deliveries_by_kind",
            "Task deliveries by kind (channel) and result (state)",
            labels=["kind", "state"],
        )
        for (kind, state), count in sorted(b.deliveries_by_kind.items()):
            by_kind.add_metric([kind, state], count)
        yield by_kind
        warnings = CounterMetricFamily(
            f"{PREFIX}_sla_warnings_raised",
            "SLA warnings raised since the start of the log, by level (yellow, red) and stage",
            labels=["level", "stage"],
        )
        for (level, stage), count in sorted(b.sla_warnings.items()):
            warnings.add_metric([level, stage], count)
        yield warnings
        yield _labelled("queue_depth", "Jobs waiting in each RQ queue", "queue", b.queues)
        yield _labelled("failed_jobs", "Jobs in each failed registry", "queue", b.failed_jobs)
        if b.workers is not None:
            yield _gauge("workers", "RQ workers registered in Redis", b.workers)
        yield _labelled(
            "backlog_unmeasured",
            "1 when a part of the backlog could not be measured",
            "part",
            {problem.split(":", 1)[0]: 1 for problem in b.problems},
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def _labelled(
    name: str, documentation: str, label: str, values: dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


@router.get("/metrics", response_class=Response, dependencies=[Depends(require_observer)])
def metrics(container: ContainerDep) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProcessCollector())
    registry.register(BacklogCollector(measure(container.engine, container.redis_url)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
