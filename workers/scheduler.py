"""``dispatch scheduler``: the relay, projection catch-up, SLA timers and the reconciler.

Safe to run two or more: they elect a leader through a lease in Redis (``SET NX PX``, renewed
by its holder only), and only the leader works; a standby takes over within one lease after
the leader dies. If Redis is flushed the lease goes with it and the next renewal wins it
back. The leader's work runs in three loops, so that none waits on another: the relay and
the projections each tail the log (waking every ``poll`` seconds while it is quiet), and a
periodic loop moves RQ's due retries, schedules the SLA scan, runs the reconciler and seals
the log (``events.seals``, every ``DISPATCH_SEAL_MINUTES``) — a long reconciliation or a
projection far behind never delays a new case on its way.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis
from rq.scheduler import RQScheduler

from dispatch.bootstrap import Container
from dispatch.delivery.queues import SERIALIZER, enqueue, sla_scan_job
from dispatch.projections.runner import ProjectionRunner
from dispatch.projections.sla_timers import SlaTimers
from events.seals import SealBroken, seal_log
from workers.reconciler import Reconciler
from workers.relay import Relay
from workers.timers import timers_runner

LEADER_KEY = "street-whistle:scheduler:leader"
IDLE_SLOWDOWN = 4  # an idle tail polls at most this many times less often than ``poll``
IDLE_AFTER = 2.0  # seconds without finding anything before a tail counts as idle
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periods:
    # The relay's wait between batches. Each batch costs about the same for few cases as for
    # many (a read, a checkpoint transaction, a routing job with RQ's bookkeeping and its own
    # read and append), so the wait sets the pipeline's CPU per complaint: at 100 cases/s,
    # 50 ms → 100 ms took 0.6–1.2 ms off 9–10 ms per complaint, for +35 ms at the inbox's
    # p50 and ~+90 ms at its p99 (800–870 ms against the 1 s bar; docs/benchmarks.md).
    poll: float = 0.1
    # The projections' wait: a batch costs about the same for 5 events as for 50 (five
    # transactions, a checkpoint each), and nobody waits on them here — every read through
    # the API or the console catches its projection up first (read-your-writes).
    project_poll: float = 0.2
    # A batch at least this big means a backlog: the next one is read at once. Smaller ones
    # wait ``poll`` first, so that under a steady intake each batch gathers the events of a
    # poll period instead of the one or two that came in since the last: at 100 cases/s
    # going round at once cost the scheduler and the database several times the CPU.
    backlog: int = 100
    lease: float = 10.0  # leadership lease; renewed every third of it
    sla_scan: float = 15.0
    reconcile: float = 10.0
    retries: float = 1.0  # moving RQ's scheduled retries to their queues
    grace: float = 5.0  # the reconciler leaves younger events to the relay and the workers
    seal: float | None = None  # sealing the log; None: the settings' ``seal_minutes``


class Pace:
    """How long a tail waits before its next step, given what its last step found: nothing
    while there is a backlog (``backlog`` events or more), ``poll`` seconds while it finds
    work, and ever longer (up to ``IDLE_SLOWDOWN`` × ``poll``) once it has found none for
    ``IDLE_AFTER`` seconds: an idle scheduler polling every 50 ms cost a tenth of a core.

    Not sooner: under a steady intake a poll often finds nothing yet (the new events are
    above the safe horizon while their neighbours' transactions are in flight), and slowing
    down at the first empty poll held a busy log's projections back by up to a second.
    """

    def __init__(
        self, poll: float, backlog: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.poll, self.backlog, self.clock = poll, backlog, clock
        self.wait = poll
        self.quiet_since = clock()

    def after(self, found: object) -> float:
        if isinstance(found, int) and found >= self.backlog:
            return 0.0
        now = self.clock()
        if found:
            self.wait, self.quiet_since = self.poll, now
        elif now - self.quiet_since >= IDLE_AFTER:
            self.wait = min(self.wait * 2, self.poll * IDLE_SLOWDOWN)
        return self.wait


class Leadership:
    """One holder of ``LEADER_KEY`` at a time; ``hold()`` acquires or renews it."""

    def __init__(self, connection: redis.Redis, lease: float, name: str) -> None:
        self.connection = connection
        self.lease_ms = int(lease * 1000)
        self.token = name
        self._renew = connection.register_script(RENEW_SCRIPT)
        self._release = connection.register_script(RELEASE_SCRIPT)

    def hold(self) -> bool:
        if self._renew(keys=[LEADER_KEY], args=[self.token, self.lease_ms]):
            return True
        return bool(self.connection.set(LEADER_KEY, self.token, nx=True, px=self.lease_ms))

    def release(self) -> None:
        self._release(keys=[LEADER_KEY], args=[self.token])


class Scheduler:
    def __init__(
        self,
        container: Container,
        connection: redis.Redis,
        *,
        periods: Periods = Periods(),
        name: str | None = None,
    ) -> None:
        self.container = container
        self.connection = connection
        self.periods = periods
        # Host and pid in the name: whoever reads the lease knows which process leads.
        self.name = name or f"scheduler-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.leadership = Leadership(connection, periods.lease, self.name)
        self.relay = Relay(
            container.engine,
            connection,
            catalogue=container.catalogue_source,
            clock=container.clock,
        )
        # Its own runner, which never waits for older writers still in flight: what is not
        # safe to read yet is read on the next poll. (The API's runner waits briefly, for
        # read-your-writes; polling the horizon every few ms here cost a busy log dearly.)
        self.projector = ProjectionRunner(
            container.engine, [*container.projector.projections, SlaTimers()], settle=0
        )
        self.reconciler = Reconciler(container, connection, grace=timedelta(seconds=periods.grace))
        self.leading = threading.Event()
        self._rq_scheduler: RQScheduler | None = None
        self._rq_queues: list[str] = []

    # -- the loops ------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; returns after releasing the lease."""
        while not stop.is_set() and self._guarded("start", self._prepare) is None:
            stop.wait(1.0)  # the database is not there yet: keep trying, do not die
        loops = [
            threading.Thread(
                target=self._tail,
                args=(stop, "relay", self.relay.run_once, self.periods.poll),
                daemon=True,
            ),
            threading.Thread(
                target=self._tail,
                args=(stop, "projections", self._project, self.periods.project_poll),
                daemon=True,
            ),
            threading.Thread(target=self._slow, args=(stop,), name="periodic", daemon=True),
        ]
        for loop in loops:
            loop.start()
        try:
            while not stop.is_set():
                self._elect()
                stop.wait(self.periods.lease / 3)
        finally:
            stop.set()
            for loop in loops:
                loop.join(timeout=30)
            self._step_down()

    def _prepare(self) -> bool:
        self.container.projector.ensure_tables()
        timers_runner(self.container.engine)  # creates the SLA timers' table if missing
        return True

    def _elect(self) -> None:
        try:
            leading = self.leadership.hold()
        except redis.RedisError as error:
            log.warning("%s: cannot reach Redis (%s); standing by", self.name, error)
            leading = False
        if leading and not self.leading.is_set():
            log.info("%s: leading", self.name)
            self.relay.forget_position()  # another scheduler may have relayed meanwhile
            self.leading.set()
        elif not leading and self.leading.is_set():
            log.info("%s: lost the lease; standing by", self.name)
            self.leading.clear()

    def _step_down(self) -> None:
        self.leading.clear()
        try:
            self.leadership.release()
            if self._rq_scheduler is not None:
                self._rq_scheduler.release_locks()
        except redis.RedisError:
            pass  # the lease and locks expire on their own

    def _tail(
        self, stop: threading.Event, what: str, step: Callable[[], object], poll: float
    ) -> None:
        """Run ``step`` over and over, as often as ``Pace`` says."""
        pace = Pace(poll, self.periods.backlog)
        while not stop.is_set():
            if not self.leading.wait(poll):
                continue
            wait = pace.after(self._guarded(what, step))
            if wait:
                stop.wait(wait)

    def _project(self) -> int:
        # A few batches at a time, so a projection behind a busy intake yields regularly.
        # The SLA timers too: left to the SLA job alone, each scan folded a quarter-minute
        # of the log in one go and held a worker (and the routing jobs behind it) for seconds.
        return self.projector.catch_up_together(max_batches=4)

    def _slow(self, stop: threading.Event) -> None:
        due = {"retries": 0.0, "sla_scan": 0.0, "reconcile": 0.0, "seal": 0.0}
        tasks: dict[str, Callable[[], object]] = {
            "retries": self.move_due_retries,
            "sla_scan": self.schedule_sla_scan,
            "reconcile": self.reconciler.run_once,
            "seal": self.seal,
        }
        every = {
            "retries": self.periods.retries,
            "sla_scan": self.periods.sla_scan,
            "reconcile": self.periods.reconcile,
            "seal": self.periods.seal or self.container.settings.seal_minutes * 60,
        }
        while not stop.is_set():
            if not self.leading.wait(0.2):
                continue
            now = time.monotonic()
            for name, task in tasks.items():
                if stop.is_set() or not self.leading.is_set():
                    break
                if now >= due[name]:
                    self._guarded(name, task)
                    due[name] = time.monotonic() + every[name]
            stop.wait(0.2)

    def _guarded(self, what: str, step: Callable[[], object]) -> object:
        """Run one step; a database or Redis outage is logged and retried, never fatal."""
        try:
            return step()
        except Exception:
            log.exception("%s: %s failed; retrying shortly", self.name, what)
            time.sleep(1.0)
            return None

    # -- the steps ------------------------------------------------------------------------

    def schedule_sla_scan(self) -> bool:
        """Enqueue the SLA job unless one is already waiting or running."""
        return enqueue(self.connection, sla_scan_job(), replace_settled=True)

    def seal(self) -> None:
        """Seal the log below its safe horizon, signed with ``DISPATCH_SEAL_KEY`` if set.
        A seal in the database that this key did not sign is never built on: said loudly,
        every period, until someone looks (``dispatch verify``)."""
        try:
            seal_log(self.container.engine, key=self.container.settings.seal_key)
        except SealBroken as error:
            log.error("%s: not sealing the log: %s", self.name, error)

    def move_due_retries(self) -> None:
        """RQ's scheduled jobs (retries with back-off) whose time has come go to their queues."""
        names = self.reconciler.queue_names()
        current = self._rq_scheduler
        if current is None or names != self._rq_queues:
            if current is not None:
                current.release_locks()
            current = self._rq_scheduler = RQScheduler(
                names, connection=self.connection, serializer=SERIALIZER, name=self.name
            )
            self._rq_queues = names
        current.acquire_locks()
        current.enqueue_scheduled_jobs()
