"""The relay: tails the event log from its checkpoint and enqueues one job per event that
needs work (the log is the outbox).

``CaseReceived`` → ``route_case`` on ``routing``; ``CaseDispatched`` → ``deliver_task`` on
``dept:<code>``. Jobs have deterministic ids, so a batch enqueued twice (a crash between the
enqueue and the checkpoint, two schedulers for a moment) runs each job once. The checkpoint
moves only after every job of the batch is in Redis, and never inside an append: the relay
reads committed events only. It polls every ``idle`` seconds while the log is quiet and
loops at once while there is a backlog (the scheduler's fast loop).
"""

from __future__ import annotations

from dataclasses import replace

import redis
from sqlalchemy.engine import Engine

from dispatch.delivery.queues import JobSpec, deliver_task_job, enqueue, route_case_job
from dispatch.ops.backlog import RELAY_CHECKPOINT
from events import EventStore, RecordedEvent
from events.checkpoints import load_checkpoint, save_checkpoint
from events.database import skip_flush_wait


def job_for(recorded: RecordedEvent) -> JobSpec | None:
    if recorded.type == "CaseReceived":
        return route_case_job(recorded.stream_id)
    if recorded.type == "CaseDispatched":
        return deliver_task_job(recorded.data["task_id"], recorded.data["department"])
    return None


def correlated_with(spec: JobSpec, recorded: RecordedEvent) -> JobSpec:
    """The job carries the correlation id of the event (of the request) that caused it."""
    return replace(spec, correlation_id=recorded.meta.get("correlation_id"))


class Relay:
    def __init__(self, engine: Engine, connection: redis.Redis, *, batch: int = 500) -> None:
        self.engine = engine
        self.store = EventStore(engine)
        self.connection = connection
        self.batch = batch

    def position(self) -> int:
        with self.store.reading() as conn:
            return load_checkpoint(conn, RELAY_CHECKPOINT)

    def run_once(self) -> int:
        """Relay the next batch; returns how many events it read (0: nothing new)."""
        after = self.position()
        # No settling wait: the scheduler polls again within ``poll`` seconds anyway.
        batch = self.store.read_all(after=after, limit=self.batch, settle=0)
        if not batch:
            return 0
        for recorded in batch:
            spec = job_for(recorded)
            if spec is not None:
                enqueue(self.connection, correlated_with(spec, recorded))
        with self.store.transaction() as conn:
            # A checkpoint lost in a crash only relays its batch again, and enqueueing is
            # idempotent (deterministic job ids): no need to wait for the disk here.
            skip_flush_wait(conn)
            # Another relay (a scheduler that lost its lease mid-batch) may have gone further.
            if load_checkpoint(conn, RELAY_CHECKPOINT) < batch[-1].position:
                save_checkpoint(conn, RELAY_CHECKPOINT, batch[-1].position)
        return len(batch)
