"""The relay: tails the event log from its checkpoint and enqueues one job per event that
needs work (the log is the outbox).

``CaseReceived`` → ``route_case`` on ``routing``, one job for up to ``ROUTE_BATCH`` of a
batch's new cases (RQ's bookkeeping per job cost more than routing a case);
``CaseDispatched`` → ``deliver_task`` on ``dept:<code>`` when the department hears through a
channel of its own (webhook, robot, SMS); a task for a department on the built-in inbox is
recorded as delivered by the relay itself, in the transaction that moves its checkpoint (a
row in our own database: sending it through Redis to a worker cost more than the rest of the
pipeline's work on the case). An urge, a ruling, a cancellation or an SLA warning → one
``deliver_notice`` per department it concerns (``dispatch.delivery.notices.addressees``, on
the case folded up to that event, so relaying it again finds the same departments); a
``HotspotDetected`` → one ``deliver_notice`` to the street office it names. Jobs have
deterministic ids, so a batch enqueued twice (a crash between the enqueue and the
checkpoint, two schedulers for a moment) runs each job once (a batch read again with more
events behind it may group its cases otherwise: a case routed twice is routed once, routing
is idempotent). The checkpoint moves only after every job of the batch is in Redis, and
never inside an append: the relay reads committed events only. It polls every ``idle``
seconds while the log is quiet and loops at once while there is a backlog (the scheduler's
fast loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import redis
from sqlalchemy.engine import Engine

from dispatch.bootstrap import system_clock
from dispatch.catalogue.versions import active_catalogue
from dispatch.delivery.notices import NOTICE_EVENTS, addressees
from dispatch.delivery.queues import (
    ROUTE_BATCH,
    JobSpec,
    deliver_notice_job,
    deliver_task_job,
    enqueue_all,
    route_case_job,
)
from dispatch.delivery.state import INBOX, InboxTask, record_inbox_deliveries
from dispatch.domain.case_evolve import fold
from dispatch.domain.events import registry
from dispatch.handlers.handling import CatalogueSource
from dispatch.ops.backlog import RELAY_CHECKPOINT
from events import EventStore, RecordedEvent
from events.checkpoints import load_checkpoint, save_checkpoint
from events.database import skip_flush_wait

History = Callable[[str], list[RecordedEvent]]


def jobs_for(recorded: RecordedEvent, history: History) -> list[JobSpec]:
    """The jobs one event needs; ``history`` reads a case's stream (notices need its tasks).
    A ``CaseReceived`` needs none of its own: new cases are routed in batches
    (``routing_jobs``)."""
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


def routing_jobs(received: list[RecordedEvent], size: int = ROUTE_BATCH) -> list[JobSpec]:
    """The ``CaseReceived`` events' routing, ``size`` cases a job, each case's correlation id
    beside it (a job of one case carries it as any job does)."""
    jobs = []
    for start in range(0, len(received), size):
        chunk = received[start : start + size]
        ids = tuple(r.meta.get("correlation_id") for r in chunk)
        spec = route_case_job(*(r.stream_id for r in chunk))
        if len(chunk) == 1:
            jobs.append(replace(spec, correlation_id=ids[0]))
        else:
            jobs.append(replace(spec, correlation_ids=ids))
    return jobs


class Relay:
    def __init__(
        self,
        engine: Engine,
        connection: redis.Redis,
        *,
        batch: int = 500,
        catalogue: CatalogueSource | None = None,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        self.engine = engine
        self.catalogue = catalogue or (lambda: active_catalogue(engine))
        self.clock = clock
        self.store = EventStore(engine)
        self.connection = connection
        self.batch = batch
        # The checkpoint as this relay last read or moved it: while it leads, no one else
        # moves it, so each step need not read it again (``forget_position`` on taking over).
        self._position: int | None = None

    def inbox_tasks(self, batch: list[RecordedEvent]) -> dict[int, InboxTask]:
        """The batch's dispatches to departments on the built-in inbox, by position."""
        dispatched = [r for r in batch if r.type == "CaseDispatched"]
        if not dispatched:
            return {}
        active = self.catalogue()
        catalogue = active[1] if active else None
        return {
            r.position: InboxTask(r.data["task_id"], r.stream_id, r.data["department"])
            for r in dispatched
            if catalogue is None or catalogue.delivery_of(r.data["department"]).type == INBOX
        }

    def position(self) -> int:
        if self._position is None:
            with self.store.reading() as conn:
                self._position = load_checkpoint(conn, RELAY_CHECKPOINT)
        return self._position

    def forget_position(self) -> None:
        """Read the checkpoint again at the next step: another relay may have moved it."""
        self._position = None

    def run_once(self) -> int:
        """Relay the next batch; returns how many events it read (0: nothing new)."""
        try:
            return self._relay_batch()
        except BaseException:
            self.forget_position()
            raise

    def _relay_batch(self) -> int:
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

        inbox = self.inbox_tasks(batch)
        received = [r for r in batch if r.type == "CaseReceived"]
        specs = routing_jobs(received) + [
            correlated_with(spec, recorded)
            for recorded in batch
            if recorded.position not in inbox
            for spec in jobs_for(recorded, history)
        ]
        enqueue_all(self.connection, specs)  # one round trip for the batch
        with self.store.transaction() as conn:
            # A checkpoint lost in a crash only relays its batch again, and enqueueing and
            # recording a delivery are idempotent: no need to wait for the disk here.
            skip_flush_wait(conn)
            record_inbox_deliveries(conn, list(inbox.values()), self.clock())
            # Another relay (a scheduler that lost its lease mid-batch) may have gone further.
            stored = load_checkpoint(conn, RELAY_CHECKPOINT)
            if stored < batch[-1].position:
                save_checkpoint(conn, RELAY_CHECKPOINT, batch[-1].position)
        self._position = max(stored, batch[-1].position)
        return len(batch)
