"""Queues and jobs: the contract between the log's relay and the RQ workers.

Every job has a deterministic id derived from its input, so the relay, the reconciler and a
dispatcher's replay all enqueue *the same* job, and ``enqueue`` refuses a second copy while
one exists (RQ's atomic ``unique`` enqueue). Jobs are named by dotted path
(``workers.jobs.route_case``), so ``dispatch`` — the API's replay and metrics — never imports
``workers``. Arguments and results travel as JSON, never pickle.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.scripts import _build_hset_args as hset_args
from rq.scripts import get_unique_enqueue_script
from rq.serializers import JSONSerializer

ROUTING = "routing"
TIMERS = "timers"
DEPARTMENT_PREFIX = "dept:"

ROUTE_CASE = "route_case"
DELIVER_TASK = "deliver_task"
DELIVER_NOTICE = "deliver_notice"
RAISE_SLA_WARNINGS = "raise_sla_warnings"
KINDS = (ROUTE_CASE, DELIVER_TASK, DELIVER_NOTICE, RAISE_SLA_WARNINGS)
JOB_MODULE = "workers.jobs"

SERIALIZER = JSONSerializer
# A job that is waiting or running; anything else (finished, failed, stopped, gone) is settled.
IN_FLIGHT = frozenset(
    {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
)
CORRELATION_ID = "correlation_id"  # the key in a job's meta
# A routing batch's meta: each case's correlation id (the request that filed it), by case id.
CORRELATION_IDS = "correlation_ids"
# A routing job's cases at most: one job shares RQ's bookkeeping (a dequeue, the registries,
# the result) among them, while a backlog still spreads over every worker in pieces.
ROUTE_BATCH = 50
BATCH_PREFIX = f"{ROUTE_CASE}-batch-"
_JOB_ID = re.compile(r"[A-Za-z0-9_-]+")


def department_queue(code: str) -> str:
    return f"{DEPARTMENT_PREFIX}{code}"


def department_of(queue: str) -> str | None:
    """``dept:water`` → ``water``; ``None`` for routing, timers or anything else."""
    return queue.removeprefix(DEPARTMENT_PREFIX) if queue.startswith(DEPARTMENT_PREFIX) else None


def queue_names(departments: Iterable[str]) -> list[str]:
    """What a worker serves by default: routing first, then timers, then every department."""
    return [ROUTING, TIMERS, *sorted(department_queue(code) for code in departments)]


def job_id(kind: str, *args: str) -> str:
    """``route_case-<case id>``; ids RQ would refuse (it allows ``[A-Za-z0-9_-]``) are hashed.

    A routing job of several cases is ``route_case-batch-<digest of the cases>``: recognisable
    by the reconciler, which looks inside such jobs for the cases they carry.
    """
    if kind == ROUTE_CASE and len(args) > 1:
        return BATCH_PREFIX + hashlib.sha256("\n".join(args).encode()).hexdigest()[:40]
    raw = "-".join((kind, *args))
    if _JOB_ID.fullmatch(raw) and len(raw) <= 200:
        return raw
    return f"{kind}-{hashlib.sha256(raw.encode()).hexdigest()[:40]}"


@dataclass(frozen=True)
class JobSpec:
    """One job as the relay, the reconciler and a replay all describe it."""

    kind: str
    queue: str
    args: tuple[str, ...] = ()
    timeout: int = 60
    result_ttl: int = 120  # long enough to refuse a duplicate, short enough to stay small
    # Back-off in seconds when the job raises: rides out a database restart of ~10 minutes.
    retry: tuple[int, ...] = (2, 10, 30, 120, 600)
    # The correlation id of the event that caused the job; travels in the job's meta, not
    # its id, so the same work enqueued by the reconciler is still the same job.
    correlation_id: str | None = field(default=None, compare=False)
    # A routing batch's: each case's correlation id, in the order of ``args``.
    correlation_ids: tuple[str | None, ...] = field(default=(), compare=False)

    @property
    def id(self) -> str:
        return job_id(self.kind, *self.args)

    @property
    def func(self) -> str:
        return f"{JOB_MODULE}.{self.kind}"

    @property
    def description(self) -> str:
        return f"{self.kind}({', '.join(self.args)})"


def route_case_job(case_id: str, *more: str) -> JobSpec:
    """Route one new case, or several in one job (the relay's batches, ``ROUTE_BATCH``)."""
    return JobSpec(ROUTE_CASE, ROUTING, (case_id, *more))


def deliver_task_job(task_id: str, department: str) -> JobSpec:
    return JobSpec(DELIVER_TASK, department_queue(department), (task_id,))


def deliver_notice_job(case_id: str, version: int, department: str) -> JobSpec:
    """One event's notice to one department: the id is the same however often it is relayed."""
    args = (case_id, str(version), department)
    return JobSpec(DELIVER_NOTICE, department_queue(department), args)


def sla_scan_job() -> JobSpec:
    # result_ttl=0: the job is deleted when it succeeds, so the next tick may enqueue it again.
    return JobSpec(RAISE_SLA_WARNINGS, TIMERS, (), timeout=300, result_ttl=0, retry=())


def spec_for(kind: str, queue: str, args: Iterable[str]) -> JobSpec:
    """Rebuild a spec from a dead letter's record."""
    if kind == RAISE_SLA_WARNINGS:
        return sla_scan_job()
    return JobSpec(kind, queue, tuple(args))


_connections: dict[str, redis.Redis] = {}
_connections_lock = threading.Lock()


def redis_connection(url: str) -> redis.Redis:
    """One client (and connection pool) per URL per process; RQ needs raw bytes responses."""
    with _connections_lock:
        if url not in _connections:
            _connections[url] = redis.Redis.from_url(
                url, socket_connect_timeout=5, health_check_interval=30
            )
        return _connections[url]


def queue(name: str, connection: redis.Redis) -> Queue:
    return Queue(name, connection=connection, serializer=SERIALIZER)


def job_status(connection: redis.Redis, job_id: str) -> JobStatus | None:
    try:
        job = Job.fetch(job_id, connection=connection, serializer=SERIALIZER)
    except NoSuchJobError:
        return None
    return job.get_status(refresh=False)


def _job_options(spec: JobSpec) -> dict[str, Any]:
    """What RQ is told about a job, the same however it is enqueued."""
    return {
        "args": spec.args,
        "job_id": spec.id,
        "timeout": spec.timeout,
        "result_ttl": spec.result_ttl,
        "retry": Retry(max=len(spec.retry), interval=list(spec.retry)) if spec.retry else None,
        "description": spec.description,
        "meta": _meta(spec) or None,
    }


def _meta(spec: JobSpec) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if spec.correlation_id:
        meta[CORRELATION_ID] = spec.correlation_id
    if any(spec.correlation_ids):
        known = zip(spec.args, spec.correlation_ids, strict=True)
        meta[CORRELATION_IDS] = {arg: cid for arg, cid in known if cid}
    return meta


def enqueue_all(connection: redis.Redis, specs: Sequence[JobSpec]) -> int:
    """``enqueue`` each spec (without ``replace_*``) in one round trip; returns how many
    were new.

    The relay enqueues every job of a batch: one by one that was two round trips a job (RQ
    registers the queue, then runs its unique-enqueue script). Here the same script runs for
    every job in one pipeline, so each job is still refused atomically if its id exists.
    Built on RQ's own pieces (``rq.scripts``, ``Queue._prepare_for_queue``): the ``rq``
    version is pinned for them.
    """
    if not specs:
        return 0
    script = get_unique_enqueue_script(connection)
    queues: dict[str, Queue] = {}
    with connection.pipeline(transaction=False) as pipe:
        for spec in specs:
            target = queues.get(spec.queue) or queues.setdefault(
                spec.queue, queue(spec.queue, connection)
            )
            job = target.create_job(spec.func, status=JobStatus.QUEUED, **_job_options(spec))
            target._prepare_for_queue(job)
            ttl = job.ttl if job.ttl is not None else -1
            fields = hset_args(job)
            script(keys=[job.key, target.key], args=[job.id, "R", ttl, *fields], client=pipe)
        for target in queues.values():
            pipe.sadd(target.redis_queues_keys, target.key)
        answers = pipe.execute()
    return sum(1 for answer in answers[: len(specs)] if answer == 1)


def enqueue(
    connection: redis.Redis,
    spec: JobSpec,
    *,
    replace_settled: bool = False,
    replace_lost: bool = False,
) -> bool:
    """Enqueue ``spec`` unless a job with its id exists; True when this call enqueued it.

    ``replace_settled`` also replaces a job that exists but is settled (finished, failed,
    stopped): the reconciler and a replay use it, because the log says the work is not done.
    A job that is queued, running or scheduled for a retry is never touched — except, with
    ``replace_lost``, a job whose hash says "queued" although the caller (the reconciler) has
    just seen it in no queue list: a worker killed between taking it and registering it lost
    it. Running it again is harmless; every job is idempotent.
    """
    target = queue(spec.queue, connection)
    for _ in range(3):
        try:
            target.enqueue_call(spec.func, unique=True, **_job_options(spec))
            return True
        except DuplicateJobError:
            if not replace_settled:
                return False
            try:
                existing = Job.fetch(spec.id, connection=connection, serializer=SERIALIZER)
            except NoSuchJobError:
                continue  # gone in between: try again
            except Exception:
                # A half-written hash (Redis flushed while a worker was finishing the job).
                connection.delete(Job.key_for(spec.id))
                continue
            status = existing.get_status(refresh=False)
            if status in IN_FLIGHT and not (replace_lost and status == JobStatus.QUEUED):
                return False
            existing.delete(remove_from_queue=True)
    return False
