"""The RQ worker: ``routing``, ``timers`` and every department's ``dept:<code>`` queue.

Routing comes first (a new case is what someone waits for), then timers, then the
departments in turn. A ``SimpleWorker`` runs jobs in its own process instead of forking one
per job, so the process's Container (engine, pools, catalogue cache) serves every job and a
job costs milliseconds, not a fork. While it runs, a heartbeat thread keeps
``alive_key(name)`` fresh for a few seconds at a time: a job whose worker's key has lapsed
was abandoned (kill -9, a lost machine), and the reconciler hands it back to RQ's registry
cleanup at once instead of waiting out the job's timeout. With no queue names given, the
worker follows the active catalogue: a department added by a new catalogue gets served
without a restart.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import redis
from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.job import Job
from rq.utils import now
from rq.worker import WorkerStatus

from dispatch.bootstrap import Container
from dispatch.correlation import acceptable, correlated
from dispatch.delivery.queues import CORRELATION_ID, DEPARTMENT_PREFIX, SERIALIZER, queue_names
from events import derived_writes

ALIVE_PREFIX = "street-whistle:alive:"
ALIVE_TTL_MS = 6_000
BEAT_SECONDS = 1.5
FOLLOW_SECONDS = 15.0
HEARTBEAT_EVERY = 1.0  # seconds between RQ's own plain heartbeats (see ``heartbeat``)
WORKER_TTL = 30  # RQ's own worker key; it also bounds how long a dequeue blocks (ttl - 15 s)

log = logging.getLogger(__name__)


def alive_key(worker_name: str) -> str:
    return f"{ALIVE_PREFIX}{worker_name}"


def is_alive(connection: redis.Redis, worker_name: str) -> bool:
    return bool(connection.exists(alive_key(worker_name)))


def catalogue_queues(container: Container) -> list[str]:
    active = container.catalogue_source()
    return queue_names([d.code for d in active[1].departments] if active else [])


class Throttle:
    """Something done at most once every ``seconds`` (the first time at once)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = -seconds

    def ready(self) -> bool:
        return time.monotonic() - self.last >= self.seconds

    def mark(self) -> None:
        self.last = time.monotonic()


class DispatchWorker(SimpleWorker):
    def __init__(
        self,
        queues: Sequence[str],
        *,
        connection: redis.Redis,
        follow: Callable[[], list[str]] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            list(queues),
            connection=connection,
            serializer=SERIALIZER,
            worker_ttl=WORKER_TTL,
            name=name,
            log_job_description=False,
        )
        self._follow = follow
        self._next_queues: list[str] | None = None
        self._stop_beating = threading.Event()
        # RQ's per-job Redis round trips that are sent at most once every HEARTBEAT_EVERY.
        self._beat_sent = Throttle(HEARTBEAT_EVERY)
        self._suspension_checked = Throttle(HEARTBEAT_EVERY)
        self._idle_written = Throttle(HEARTBEAT_EVERY)
        self._written_state: str | None = None
        self._burst = False
        # Set by SIGTERM/SIGINT. RQ marks ``_stop_requested`` only when the signal lands mid-job;
        # an idle worker just leaves its loop, which must not read as Redis dropping out.
        self.asked_to_stop = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.asked_to_stop = True
        super().request_stop(signum, frame)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self._burst = bool(kwargs.get("burst"))
        self._beat()
        beating = threading.Thread(target=self._keep_beating, name="alive", daemon=True)
        beating.start()
        try:
            return super().work(*args, **kwargs)
        finally:
            self._stop_beating.set()
            beating.join(timeout=5)
            with contextlib.suppress(redis.RedisError):
                self.connection.delete(alive_key(self.name))

    def heartbeat(self, timeout: int | None = None, pipeline: object = None) -> None:
        # RQ sends a plain heartbeat (three round trips) three times around every job; once a
        # second is plenty against a TTL of ``WORKER_TTL + 60`` s, and it was a sixth of a
        # job's Redis traffic. Heartbeats inside RQ's own pipelines always go through.
        if pipeline is not None or timeout is not None or self._beat_sent.ready():
            super().heartbeat(timeout, pipeline)  # type: ignore[arg-type]
            if pipeline is None:
                self._beat_sent.mark()
                if self._written_state != self._state:
                    self.set_state(self._state)
        # Between jobs, in the main thread: the only safe place to change the queue list.
        names, self._next_queues = self._next_queues, None
        if names is not None and names != self.queue_names():
            log.info("worker %s: now serving %s", self.name, ", ".join(names))
            self.queues = [
                Queue(n, connection=self.connection, serializer=self.serializer) for n in names
            ]
            self._ordered_queues = self.queues[:]

    def set_state(self, state: str, pipeline: Any = None) -> None:
        # RQ writes "idle" to Redis twice per job, each on its own round trip ("busy" rides in
        # the job's start pipeline). In a run of jobs "idle" is written at most once a second;
        # the next plain heartbeat writes a state left unwritten (``rq info`` may show "busy"
        # for up to a second after the last job).
        if (
            pipeline is None
            and state == WorkerStatus.IDLE
            and self._written_state == WorkerStatus.BUSY
            and not self._idle_written.ready()
        ):
            self._state = state
            return
        if state == WorkerStatus.IDLE:
            self._idle_written.mark()
        super().set_state(state, pipeline)
        self._written_state = state

    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        # RQ refreshes the job's heartbeat (a round trip) between its end and the pipeline
        # that records how it ended. A job that ran for less than a second is nowhere near
        # its heartbeat's lapse; only a long one needs the refresh.
        if job.started_at is not None and now() - job.started_at < timedelta(seconds=1):
            job.ended_at = now()
            return
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    def check_for_suspension(self, burst: bool) -> None:
        # ``rq suspend`` is checked before every job, one round trip each; once a second is
        # soon enough for an operator's command.
        if self._suspension_checked.ready():
            self._suspension_checked.mark()
            super().check_for_suspension(burst)

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        # The id of the request that caused the job: in its log lines and in the meta of the
        # events it appends (the executor reads it), so one id follows a case end to end.
        # Whatever a job appends is derived from the log: no waiting for the disk
        # (``events.store.derived_writes``).
        with correlated(acceptable(str(job.meta.get(CORRELATION_ID) or ""))), derived_writes():
            return bool(super().perform_job(job, queue, execution))

    def reorder_queues(self, reference_queue: Queue) -> None:
        """Routing and timers first, always; the departments take turns after them, so one
        busy department never starves the others' deliveries."""
        fixed = [q for q in self._ordered_queues if not q.name.startswith(DEPARTMENT_PREFIX)]
        turns = [q for q in self._ordered_queues if q.name.startswith(DEPARTMENT_PREFIX)]
        names = [q.name for q in turns]
        if reference_queue.name in names:
            served = names.index(reference_queue.name)
            turns = turns[served + 1 :] + turns[: served + 1]
        self._ordered_queues = fixed + turns

    def subscribe(self) -> None:
        # RQ's command channel (stop a job, shut down) is for long-running workers; a burst
        # worker would only wait a second for its listener thread to wind down.
        if not self._burst:
            super().subscribe()

    def unsubscribe(self) -> None:
        """RQ's own sends UNSUBSCRIBE and only then stops the listening thread, and redis-py
        8's ``stop()`` waits for that thread to end. The thread wakes on the reply, but if it
        does so before the stop (the main thread descheduled in between: a busy machine), it
        finds itself still asked to run and goes back to a read of up to 60 s, and the
        worker hangs on SIGTERM that long. Here the thread is told to stop first, so the
        reply that wakes it ends it."""
        thread = self.pubsub_thread
        if not thread:
            return
        thread.stop(timeout=0)  # clears its flag; does not wait
        self.log.info(
            "Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name
        )
        self.pubsub.unsubscribe()
        thread.join(timeout=1)
        self.pubsub.close()

    def _beat(self) -> None:
        self.connection.set(alive_key(self.name), "1", px=ALIVE_TTL_MS)

    def _keep_beating(self) -> None:
        since_follow = 0.0
        while not self._stop_beating.wait(BEAT_SECONDS):
            try:
                self._beat()
                since_follow += BEAT_SECONDS
                if self._follow is not None and since_follow >= FOLLOW_SECONDS:
                    since_follow = 0.0
                    self._next_queues = self._follow()
            except Exception:  # Redis or the database blinked; the next beat tries again
                log.warning("worker %s: heartbeat failed", self.name, exc_info=True)


def build_worker(
    container: Container, connection: redis.Redis, queues: Sequence[str] = ()
) -> DispatchWorker:
    """A worker on ``queues``, or on the catalogue's queues (followed) when none are given."""
    if queues:
        return DispatchWorker(queues, connection=connection)
    return DispatchWorker(
        catalogue_queues(container),
        connection=connection,
        follow=lambda: catalogue_queues(container),
    )


RECONNECT_FIRST = 0.5
RECONNECT_LONGEST = 30.0


def keep_working(
    worker: DispatchWorker,
    rebuild: Callable[[], DispatchWorker],
    *,
    burst: bool = False,
    logging_level: str = "INFO",
) -> None:
    """``worker.work()``, and again with a fresh worker whenever Redis drops out from under it.

    RQ retries a lost connection only while it waits for a job; one lost while it records a
    job's end (a Redis restart mid-job) makes it quit. That is not a reason for the process
    to end: it waits for Redis with growing pauses (0.5 s doubling to 30 s) and goes on. A
    job cut short is not lost: the reconciler re-enqueues what the log says is not done.
    Stops when asked (SIGTERM, SIGINT) or, in burst mode, when the queues are empty.
    """
    while True:
        try:
            worker.work(burst=burst, logging_level=logging_level)
        except redis.RedisError as error:  # RQ's own teardown, after the loop gave up
            log.warning("worker %s: Redis failed: %s", worker.name, error)
        if burst or worker.asked_to_stop or worker._stop_requested:
            return
        pause = RECONNECT_FIRST
        while not _reachable(worker.connection):
            log.warning("worker %s: waiting %.1f s for Redis", worker.name, pause)
            time.sleep(pause)
            pause = min(pause * 2, RECONNECT_LONGEST)
        log.warning("worker %s: Redis is back; working again", worker.name)
        worker = rebuild()


def _reachable(connection: redis.Redis) -> bool:
    try:
        return bool(connection.ping())
    except redis.RedisError:
        return False
