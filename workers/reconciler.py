"""The reconciler: makes Redis agree with the log again, whatever Redis lost or kept.

Each pass, in order:

1. **Abandoned jobs** — a job in a ``StartedJobRegistry`` whose worker no longer beats
   (``workers.worker.is_alive``) is expired there and handed to RQ's registry cleanup, which
   retries it (or fails it when its retries are spent).
2. **Idle queues** — queues no worker listens on get RQ's ``clean_registries``.
3. **Failed jobs → dead letters** — each job in a ``FailedJobRegistry`` becomes a dead letter
   a dispatcher can see and replay, and leaves Redis.
4. **The log** — from a watermark up to the relay's checkpoint, every case received but never
   routed (``needs_routing``), every task dispatched but never delivered and every notice
   (an urge, a ruling, a cancellation, an SLA warning: ``NOTICE_EVENTS``; a hotspot's
   ``HotspotDetected`` to its street office) whose
   ``notice_deliveries`` row is missing or still pending is enqueued again, with the relay's
   own job ids (``jobs_for``), unless its job is waiting or running (a case received is
   also on its way while a routing batch that carries it is). After ``FLUSHALL`` that
   is everything unfinished. A notice's departments come from its case folded up to the
   event, as the relay found them: one stream read per case with notices in the window.
   The watermark stops before the first item still unfinished, so a pass reads only the
   recent log once everything older is done. Dead-lettered items wait for a replay.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import redis
import sqlalchemy as sa
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry, clean_registries

from dispatch.bootstrap import Container
from dispatch.delivery.notice_state import notice_id, settled_notice_ids
from dispatch.delivery.notices import NOTICE_EVENTS
from dispatch.delivery.queues import (
    BATCH_PREFIX,
    DELIVER_NOTICE,
    DELIVER_TASK,
    DEPARTMENT_PREFIX,
    ROUTE_CASE,
    ROUTING,
    SERIALIZER,
    TIMERS,
    JobSpec,
    deliver_task_job,
    department_of,
    enqueue,
    queue,
    route_case_job,
)
from dispatch.delivery.state import (
    add_dead_letter,
    open_dead_letter_job_ids,
    record_gave_up,
    settled_task_ids,
)
from dispatch.handlers import CaseNotFound
from dispatch.handlers.executor import load_case
from dispatch.handlers.route_case import needs_routing
from dispatch.ops.backlog import RELAY_CHECKPOINT
from events import RecordedEvent, as_utc, event_table
from events.checkpoints import load_checkpoint, save_checkpoint
from events.database import read_only_connection
from workers.relay import jobs_for
from workers.worker import catalogue_queues, is_alive

WATERMARK = "reconciler"
ROUTED = ("CaseDispatched", "CaseUnroutable", "CaseAnswered", "CaseMerged")
# A hotspot's notice (主动治理, to the street office it names) is made of the event alone.
NOTICED = frozenset({*NOTICE_EVENTS, "HotspotDetected"})
WATCHED = ("CaseReceived", "CaseDispatched", *sorted(NOTICED))

log = logging.getLogger(__name__)


@dataclass
class Report:
    abandoned: int = 0
    cleaned_queues: int = 0
    dead_lettered: int = 0
    requeued: list[str] = field(default_factory=list)
    watermark: int = 0

    def __bool__(self) -> bool:
        return bool(self.abandoned or self.dead_lettered or self.requeued)


@dataclass(frozen=True)
class Item:
    position: int
    spec: JobSpec
    done: bool


class Reconciler:
    def __init__(
        self,
        container: Container,
        connection: redis.Redis,
        *,
        grace: timedelta = timedelta(seconds=5),
        batch: int = 2000,
        max_batches: int = 20,
    ) -> None:
        self.container = container
        self.connection = connection
        self.grace = grace
        self.batch = batch
        self.max_batches = max_batches

    def run_once(self) -> Report:
        report = Report()
        names = self.queue_names()
        for name in names:
            report.abandoned += self.hand_back_abandoned(queue(name, self.connection))
        for name in names:
            q = queue(name, self.connection)
            if Worker.count(connection=self.connection, queue=q) == 0:
                clean_registries(q)
                report.cleaned_queues += 1
        for name in names:
            report.dead_lettered += self.bury_failed(queue(name, self.connection))
        report.watermark = self.compare_with_log(report)
        if report:
            log.info("reconciler: %s", report)
        return report

    def queue_names(self) -> list[str]:
        known = {q.name for q in Queue.all(connection=self.connection, serializer=SERIALIZER)}
        ours = {n for n in known if n.startswith(DEPARTMENT_PREFIX)} | {ROUTING, TIMERS}
        return sorted(ours | set(catalogue_queues(self.container)))

    # -- 1. abandoned jobs ----------------------------------------------------------------

    def hand_back_abandoned(self, q: Queue) -> int:
        registry = StartedJobRegistry(queue=q)
        expired = 0
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            try:
                job = Job.fetch(job_id, connection=self.connection, serializer=SERIALIZER)
            except Exception:  # gone, or unreadable: nothing to hand back
                continue
            if job.worker_name and not is_alive(self.connection, job.worker_name):
                member = f"{job_id}:{execution_id}"
                expired += int(self.connection.zadd(registry.key, {member: 0}, xx=True, ch=True))
        if expired:
            registry.cleanup()  # RQ's own path: retry if retries are left, else failed
        return expired + self._drop_stuck_intermediate(q)

    def _drop_stuck_intermediate(self, q: Queue) -> int:
        """A worker killed between taking a job and registering it leaves the job in the
        queue's intermediate list; after RQ's own minute of grace, drop it (the log step
        enqueues the work again)."""
        intermediate = IntermediateQueue(q.key, self.connection)
        started = set(StartedJobRegistry(queue=q).get_job_ids(cleanup=False))
        dropped = 0
        for job_id in intermediate.get_job_ids():
            if job_id in started or intermediate.set_first_seen(job_id):
                continue
            if intermediate.should_be_cleaned_up(job_id):
                intermediate.remove(job_id)
                with contextlib.suppress(NoSuchJobError):
                    Job.fetch(job_id, connection=self.connection, serializer=SERIALIZER).delete()
                dropped += 1
        return dropped

    # -- 3. failed jobs -------------------------------------------------------------------

    def bury_failed(self, q: Queue) -> int:
        registry = FailedJobRegistry(queue=q)
        buried = 0
        for job_id in registry.get_job_ids(cleanup=False):
            try:
                job = Job.fetch(job_id, connection=self.connection, serializer=SERIALIZER)
            except NoSuchJobError:
                registry.remove(job_id)
                continue
            except Exception as error:  # a job we cannot even read (not JSON): bury it raw
                self._bury(q.name, job_id, "unknown", [], f"unreadable job: {error}")
                self.connection.zrem(registry.key, job_id)
                buried += 1
                continue
            kind = (job.func_name or "unknown").rsplit(".", 1)[-1]
            result = job.latest_result()
            error = (result.exc_string if result else None) or "failed (no traceback recorded)"
            self._bury(q.name, job_id, kind, [str(a) for a in job.args], error)
            registry.remove(job, delete_job=True)
            buried += 1
        return buried

    def _bury(self, queue_name: str, job_id: str, kind: str, args: list[str], error: str) -> None:
        now = self.container.clock()
        payload: dict[str, object] = {"args": args}
        with self.container.engine.begin() as conn:
            if kind == DELIVER_TASK and args:
                task_id = args[0]
                department = department_of(queue_name) or ""
                payload.update(task_id=task_id, department=department)
                record_gave_up(conn, task_id=task_id, department=department, error=error, now=now)
            elif kind == DELIVER_NOTICE and len(args) == 3:
                # A replay resets the notice's row, as it does a task's delivery.
                payload.update(notice_id=notice_id(args[0], int(args[1]), args[2]))
            add_dead_letter(
                conn,
                kind=kind,
                job_id=job_id,
                queue=queue_name,
                payload=payload,
                error=error,
                now=now,
            )

    # -- 4. the log -----------------------------------------------------------------------

    def compare_with_log(self, report: Report) -> int:
        engine = self.container.engine
        with read_only_connection(engine) as conn:
            watermark = load_checkpoint(conn, WATERMARK)
            upto = load_checkpoint(conn, RELAY_CHECKPOINT)
        cutoff = self.container.clock() - self.grace
        new_watermark, after = watermark, watermark
        held = False
        for _ in range(self.max_batches):
            rows = self._candidates(after, upto)
            if not rows:
                break
            young = [r for r in rows if as_utc(r.recorded_at) > cutoff]
            if young:
                rows = [r for r in rows if r.position < young[0].position]
            unfinished = [item for item in self._items(rows) if not item.done]
            flying = self._in_flight([item.spec for item in unfinished])
            if any(item.spec.kind == ROUTE_CASE for item in unfinished):
                flying |= self._routing_batches_in_flight()
            for item in unfinished:
                if item.spec.id not in flying:
                    if item.spec.kind == ROUTE_CASE and not self._needs_routing(item.spec.args[0]):
                        continue  # answered, merged, parked … before a router got to it
                    if enqueue(self.connection, item.spec, replace_settled=True, replace_lost=True):
                        report.requeued.append(item.spec.id)
                if not held:
                    new_watermark, held = item.position - 1, True
            if rows and not held:
                new_watermark = rows[-1].position
            if young or len(rows) < self.batch:
                break
            after = rows[-1].position
        if new_watermark != watermark:
            with engine.begin() as conn:
                save_checkpoint(conn, WATERMARK, new_watermark)
        return new_watermark

    def _candidates(self, after: int, upto: int) -> list[sa.Row]:
        query = (
            sa.select(
                event_table.c.position,
                event_table.c.stream_id,
                event_table.c.type,
                event_table.c.data,
            )
            .add_columns(event_table.c.recorded_at)
            .where(
                event_table.c.position > after,
                event_table.c.position <= upto,
                event_table.c.type.in_(WATCHED),
            )
            .order_by(event_table.c.position)
            .limit(self.batch)
        )
        with read_only_connection(self.container.engine) as conn:
            return list(conn.execute(query))

    def _items(self, rows: list[sa.Row]) -> list[Item]:
        received = [r for r in rows if r.type == "CaseReceived"]
        dispatched = [r for r in rows if r.type == "CaseDispatched"]
        specs = {r.position: [route_case_job(r.stream_id)] for r in received}
        specs |= {
            r.position: [deliver_task_job(r.data["task_id"], r.data["department"])]
            for r in dispatched
        }
        notices = self._notice_jobs([r for r in rows if r.type in NOTICED])
        specs |= notices
        every = [spec for found in specs.values() for spec in found]
        with read_only_connection(self.container.engine) as conn:
            routed = _routed(conn, [r.stream_id for r in received])
            delivered = settled_task_ids(conn, [r.data["task_id"] for r in dispatched])
            told = settled_notice_ids(
                conn, [_notice_key(s) for found in notices.values() for s in found]
            )
            waiting = open_dead_letter_job_ids(conn, [s.id for s in every])
        items = []
        for row in sorted(rows, key=lambda r: r.position):
            for spec in specs.get(row.position, []):
                if spec.id in waiting:
                    done = True  # a dispatcher replays it
                elif row.type == "CaseReceived":
                    done = row.stream_id in routed
                elif row.type == "CaseDispatched":
                    done = row.data["task_id"] in delivered
                else:
                    done = _notice_key(spec) in told
                items.append(Item(row.position, spec, done))
        return items

    def _notice_jobs(self, rows: list[sa.Row]) -> dict[int, list[JobSpec]]:
        """The ``deliver_notice`` jobs the relay made of these events (by position)."""
        streams: dict[str, list[RecordedEvent]] = {}

        def history(stream_id: str) -> list[RecordedEvent]:
            if stream_id not in streams:
                streams[stream_id] = self.container.store.read_stream(stream_id)
            return streams[stream_id]

        jobs: dict[int, list[JobSpec]] = {}
        for row in rows:
            recorded = next((r for r in history(row.stream_id) if r.position == row.position), None)
            jobs[row.position] = jobs_for(recorded, history) if recorded is not None else []
        return jobs

    def _needs_routing(self, case_id: str) -> bool:
        try:
            state, _version = load_case(self.container.store, case_id)
        except CaseNotFound:
            return False
        return needs_routing(state)

    def _routing_batches_in_flight(self) -> set[str]:
        """``route_case_job(case).id`` of every case in a routing batch (the relay's jobs of
        several cases) that is waiting, scheduled or running on a live worker: those cases
        are on their way, and a job of their own would only route them twice."""
        routing = queue(ROUTING, self.connection)
        with self.connection.pipeline(transaction=False) as pipe:
            for key in (routing.key, routing.intermediate_queue_key):
                pipe.lrange(key, 0, -1)
            for registry in (routing.started_job_registry, routing.scheduled_job_registry):
                pipe.zrange(registry.key, 0, -1)
            listed = pipe.execute()
        ids = {member.decode().split(":", 1)[0] for found in listed for member in found}
        batches = sorted(i for i in ids if i.startswith(BATCH_PREFIX))
        jobs = Job.fetch_many(batches, connection=self.connection, serializer=SERIALIZER)
        carried = [_cases_of(job) for job in jobs if job is not None]
        specs = [route_case_job(*cases) for cases in carried if cases]
        flying = self._in_flight(specs)
        return {route_case_job(case).id for s in specs if s.id in flying for case in s.args}

    def _in_flight(self, specs: list[JobSpec]) -> set[str]:
        """The ids of the jobs among ``specs`` that are waiting, scheduled or running on a live
        worker — read in a few round trips, however many there are."""
        if not specs:
            return set()
        with self.connection.pipeline(transaction=False) as pipe:
            for spec in specs:
                pipe.hmget(Job.key_for(spec.id), "status", "worker_name")
            found = dict(zip([s.id for s in specs], pipe.execute(), strict=True))
        waiting: set[str] = set()
        for name in {s.queue for s in specs if _text(found[s.id][0]) == JobStatus.QUEUED}:
            q = queue(name, self.connection)
            for key in (q.key, q.intermediate_queue_key):
                waiting.update(_text(job_id) for job_id in self.connection.lrange(key, 0, -1))

        def running(spec: JobSpec) -> bool:
            status, worker = (_text(value) for value in found[spec.id])
            if status == JobStatus.QUEUED:
                return spec.id in waiting  # not a leftover of a flushed or lost queue
            if status == JobStatus.STARTED:
                return bool(worker) and is_alive(self.connection, worker)
            return status in (JobStatus.SCHEDULED, JobStatus.DEFERRED)

        return {spec.id for spec in specs if running(spec)}


def _cases_of(job: Job) -> tuple[str, ...]:
    """A routing batch's case ids; none for a job whose arguments cannot be read (a hash
    half-written when Redis was flushed): its cases then get jobs of their own."""
    try:
        return tuple(str(arg) for arg in job.args)
    except Exception:
        return ()


def _notice_key(spec: JobSpec) -> str:
    case_id, version, department = spec.args
    return notice_id(case_id, int(version), department)


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def _routed(conn: sa.Connection, case_ids: list[str]) -> set[str]:
    routed: set[str] = set()
    for start in range(0, len(case_ids), 500):
        query = sa.select(event_table.c.stream_id).where(
            event_table.c.stream_id.in_(case_ids[start : start + 500]),
            event_table.c.type.in_(ROUTED),
        )
        routed.update(conn.execute(query.distinct()).scalars())
    return routed
