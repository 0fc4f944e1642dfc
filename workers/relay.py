"""The relay: tails the event log from its checkpoint and enqueues one job per event that
needs work (the log is the outbox).

``CaseReceived`` → ``route_case`` on ``routing``; ``CaseDispatched`` → ``deliver_task`` on
``dept:<code>``; an urge, a ruling, a cancellation or an SLA warning → one ``deliver_notice``
per department it concerns (``dispatch.delivery.notices.addressees``, on the case folded up
to that event, so relaying it again finds the same departments); a ``HotspotDetected`` → one
``deliver_notice`` to the street office it names. Jobs have deterministic
ids, so a batch enqueued twice (a crash between the enqueue and the checkpoint, two
schedulers for a moment) runs each job once. The checkpoint
moves only after every job of the batch is in Redis, and never inside an append: the relay
reads committed events only. It polls every ``idle`` seconds while the log is quiet and
loops at once while there is a backlog (the scheduler's fast loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import redis
from sqlalchemy.engine import Engine

from dispatch.delivery.notices import NOTICE_EVENTS, addressees
from dispatch.delivery.queues import (
    JobSpec,
    deliver_notice_job,
    deliver_task_job,
    enqueue_all,
    route_case_job,
)
from dispatch.domain.case_evolve import fold
from dispatch.domain.events import registry
from dispatch.ops.backlog import RELAY_CHECKPOINT
from events import EventStore, RecordedEvent
from events.checkpoints import load_checkpoint, save_checkpoint
from events.database import skip_flush_wait

History = Callable[[str], list[RecordedEvent]]


def jobs_for(recorded: RecordedEvent, history: History) -> list[JobSpec]:
    """The jobs one event needs; ``history`` reads a case's stream (notices need its tasks)."""
    if recorded.type == "CaseReceived":
        return [route_case_job(recorded.stream_id)]
    if recorded.type == "CaseDispatched":
        return [deliver_task_job(recorded.data["task_id"], recorded.data["department"])]
    if recorded.type == "HotspotDetected":
        office = recorded.data.get("office")
        return [deliver_notice_job(recorded.stream_id, recorded.version, office)] if office else []
    if recorded.type in NOTICE_EVENTS:
        upto = [r for r in history(recorded.stream_id) if r.version <= recorded.version]
        decoded = ((registry.decode(r), r.recorded_at) for r in upto)
        state = fold(decoded, case_id=recorded.stream_id)
        if state is None:
            return []
        event = registry.decode(recorded)
        return [
            deliver_notice_job(recorded.stream_id, recorded.version, department)
            for department, _task in addressees(state, event)
        ]
    return []


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
        streams: dict[str, list[RecordedEvent]] = {}

        def history(stream_id: str) -> list[RecordedEvent]:
            # Read once per batch: a scan that warns on many tasks of one case folds it once.
            if stream_id not in streams:
                streams[stream_id] = self.store.read_stream(stream_id)
            return streams[stream_id]

        specs = [
            correlated_with(spec, recorded)
            for recorded in batch
            for spec in jobs_for(recorded, history)
        ]
        enqueue_all(self.connection, specs)  # one round trip for the batch
        with self.store.transaction() as conn:
            # A checkpoint lost in a crash only relays its batch again, and enqueueing is
            # idempotent (deterministic job ids): no need to wait for the disk here.
            skip_flush_wait(conn)
            # Another relay (a scheduler that lost its lease mid-batch) may have gone further.
            if load_checkpoint(conn, RELAY_CHECKPOINT) < batch[-1].position:
                save_checkpoint(conn, RELAY_CHECKPOINT, batch[-1].position)
        return len(batch)
