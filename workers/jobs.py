"""The RQ jobs. Each turns its input into one call on the process's Container; nothing else.

Workers run jobs in their own process (``SimpleWorker``: no fork per job), so one Container —
engine, connection pools, catalogue cache — serves every job the process runs. The relay,
the reconciler and a replay name these functions by path (``dispatch.delivery.queues``).
"""

from __future__ import annotations

import logging
import threading

from rq import Retry, get_current_job

from dispatch.bootstrap import Container, bootstrap
from dispatch.correlation import acceptable, correlated, current_correlation_id
from dispatch.delivery.queues import CORRELATION_IDS, department_of
from dispatch.handlers import route_together, routed_tasks
from dispatch.settings import get_settings
from events import ConcurrencyError
from workers import delivery, timers

log = logging.getLogger(__name__)

_container: Container | None = None
_lock = threading.Lock()


def use_container(container: Container | None) -> None:
    """Make ``container`` the one jobs in this process use (the worker start-up, tests)."""
    global _container
    with _lock:
        _container = container


def container() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = bootstrap(get_settings())
        return _container


class RoutingFailed(Exception):
    """Some cases of a routing batch could not be routed (the rest were)."""


def route_case(*case_ids: str) -> list[str]:
    """``CaseReceived`` → catalogue rules → ``CaseDispatched`` (or ``CaseUnroutable``), for
    one case or a relay batch; the tasks made.

    Each case under the correlation id of the request that filed it. A case that fails does
    not hold up the rest of its batch: the job fails after trying every case, and its retry
    finds the others already routed (routing is idempotent).
    """
    job = get_current_job()
    correlation_ids = dict(job.meta.get(CORRELATION_IDS) or {}) if job is not None else {}
    own_ids = {c: acceptable(str(correlation_ids.get(c) or "")) for c in case_ids}
    running = container()
    settled: dict[str, list[str]] = {}
    if len(case_ids) > 1:
        # A batch's cases in one read and one append: for a new case each cost as much as
        # its routing. A case that moved meanwhile sends the whole batch the long way below.
        histories = running.store.read_streams(case_ids)
        try:
            settled = route_together(running.handling, running.store, histories, own_ids)
        except ConcurrencyError:
            log.info("a case of a routing batch moved meanwhile; routing them one by one")
    failed: list[str] = []
    for case_id in case_ids:
        if case_id in settled:
            continue
        with correlated(own_ids[case_id] or current_correlation_id()):
            try:
                settled[case_id] = routed_tasks(running.handling, case_id)
            except Exception:
                if len(case_ids) == 1:
                    raise  # the job's own failure, with its own traceback
                log.exception("routing case %s failed", case_id)
                failed.append(case_id)
    if failed:
        raise RoutingFailed(
            f"{len(failed)} of {len(case_ids)} cases not routed (see the log): {', '.join(failed)}"
        )
    return [task for case_id in case_ids for task in settled.get(case_id, [])]


def deliver_task(task_id: str) -> str | Retry:
    """Put the task in the department's inbox, or post it to the department's webhook."""
    job = get_current_job()
    department = department_of(job.origin) if job is not None else None
    outcome = delivery.deliver(container(), task_id, department=department)
    if outcome.retry_in is not None:
        return Retry(max=delivery.MAX_RQ_RETRIES, interval=outcome.retry_in)
    return outcome.state


def deliver_notice(case_id: str, version: str, department: str) -> str | Retry:
    """Tell a department about an urge, a ruling, a cancellation or an SLA warning."""
    outcome = delivery.deliver_notice(container(), case_id, int(version), department)
    if outcome.retry_in is not None:
        return Retry(max=delivery.MAX_RQ_RETRIES, interval=outcome.retry_in)
    return outcome.state


def raise_sla_warnings() -> dict[str, int]:
    """Raise every yellow or red warning that has fallen due."""
    return timers.raise_due_warnings(container())
