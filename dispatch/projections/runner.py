"""Keeps projections up to date from the log: batched, checkpointed, exactly once, rebuildable.

Each batch is one transaction that reads the checkpoint, reads the next events, applies them
and moves the checkpoint — so rows and checkpoint can never disagree, whatever crashes when.
One runner per projection at a time: on PostgreSQL each batch transaction first takes
``pg_try_advisory_xact_lock`` on a key derived from the projection's name and skips the
projection if another process holds it; on SQLite every write transaction is already
serialised by ``BEGIN IMMEDIATE`` (see ``events.database``).

The projection tables are owned by the runner, not by Alembic: a rebuild builds
``<table>_shadow`` from position 0 while the live tables keep serving, then drops the live
tables and renames the shadow ones in one transaction. Alembic would see those tables change
behind its back, so they are created here (``ensure_tables``) and their shape is versioned
by ``Projection.version`` in the ``projection_state`` table (``dispatch.projections.state``)
instead. How a rebuild works is in ``dispatch.projections.rebuild``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from dispatch.projections.base import Projection, lock_key
from dispatch.projections.rebuild import Progress, ProjectionBusy, ShadowRebuild
from dispatch.projections.state import projection_state, record_version, state_metadata
from events import EventStore, RecordedEvent, checkpoint_table, event_table
from events.checkpoints import (
    load_checkpoint,
    load_checkpoints,
    save_checkpoint,
    save_checkpoints,
)
from events.database import read_only_connection

log = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out
WAIT_FOR_LOCK = "2s"  # how long a reader waits for another runner's batch (``catch_up``)
VERSION_RECHECK = 30.0  # seconds between checks that a projection's tables have our shape

__all__ = ["Progress", "ProjectionBusy", "ProjectionRunner", "lock_key", "projection_state"]


# Each key's try-lock, in the order given (WITH ORDINALITY), and no flush wait at commit.
_TRY_LOCKS = sa.text(
    """
    SELECT pg_try_advisory_xact_lock(asked.key)
    FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS asked (key, n),
         (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait
    ORDER BY asked.n
    """
)


def _caught_up(checkpoint: str) -> sa.Select[tuple[bool]]:
    """One statement: is the head of the log at or below the checkpoint?"""
    head = sa.select(sa.func.coalesce(sa.func.max(event_table.c.position), 0)).scalar_subquery()
    done = (
        sa.select(checkpoint_table.c.position)
        .where(checkpoint_table.c.name == checkpoint)
        .scalar_subquery()
    )
    return sa.select(head <= sa.func.coalesce(done, 0))


class ProjectionRunner:
    def __init__(
        self,
        engine: Engine,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        rebuild_batch_size: int = 5000,
        settle: float = 0.05,
    ) -> None:
        self.engine = engine
        self.store = EventStore(engine)
        self.batch_size = batch_size
        # Rebuilds take bigger bites: nobody waits on the shadow tables' transactions.
        self.rebuild_batch_size = max(batch_size, rebuild_batch_size)
        # How long a batch may wait for an older writer still in flight (see
        # ``EventStore.read_all``): briefly, because a read catches up before it reads, and
        # whatever is not safe to read yet is read by the next catch-up anyway.
        self.settle = settle
        self._postgres = engine.dialect.name == "postgresql"
        self._projections = {p.name: p for p in projections}
        self._live_metadata = sa.MetaData()
        self._live = {p.name: p.define(self._live_metadata) for p in projections}
        self._current: dict[str, float] = {}  # projection → when its version was seen current

    @property
    def projections(self) -> list[Projection]:
        return list(self._projections.values())

    def projection(self, name: str) -> Projection:
        try:
            return self._projections[name]
        except KeyError:
            known = ", ".join(sorted(self._projections)) or "none"
            raise KeyError(f"unknown projection {name!r} (known: {known})") from None

    def tables(self, name: str) -> dict[str, sa.Table]:
        """The live tables of projection ``name``, by logical name."""
        self.projection(name)
        return self._live[name]

    # -- schema -------------------------------------------------------------------------

    def ensure_tables(self) -> list[str]:
        """Create missing live tables; return the projections whose ``version`` changed.

        A projection seen for the first time is recorded at its current version. A stale
        projection keeps its old tables until ``rebuild`` (or ``ensure_current``) replaces
        them, so the caller decides when to pay for the rebuild.
        """
        stale = []
        self._current.clear()
        with self.engine.begin() as conn:
            if self._postgres:
                # Two processes starting together would both try to CREATE the same tables.
                key = lock_key("projection:ensure_tables")
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            state_metadata.create_all(conn, checkfirst=True)
            self._live_metadata.create_all(conn, checkfirst=True)
            # An index a later release declares on a table that already exists (the case
            # search's trigram index, say) is created here, not by a whole rebuild.
            for table in self._live_metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            recorded = {row.name: row.version for row in conn.execute(sa.select(projection_state))}
            for projection in self._projections.values():
                if projection.name not in recorded:
                    record_version(conn, projection)
                elif recorded[projection.name] != projection.version:
                    stale.append(projection.name)
        return stale

    def ensure_current(self, *, progress: Progress | None = None) -> list[str]:
        """``ensure_tables``, then rebuild every stale projection; returns their names."""
        stale = self.ensure_tables()
        for name in stale:
            self.rebuild(name, progress=progress)
        return stale

    # -- catching up ----------------------------------------------------------------------

    def catch_up(
        self, name: str | None = None, *, max_batches: int | None = None, wait: bool = False
    ) -> int:
        """Apply new events to one projection (or all); returns how many were applied.

        While another runner holds a projection, it is skipped (that runner does the work),
        unless ``wait``: a reader about to show the projection waits (up to ``WAIT_FOR_LOCK``)
        for the other runner's batch, so it never misses what was answered before it.
        """
        targets = [self.projection(name)] if name else self.projections
        return sum(self._catch_up_one(p, max_batches, wait) for p in targets)

    def _catch_up_one(self, projection: Projection, max_batches: int | None, wait: bool) -> int:
        if self._nothing_to_do(projection):
            return 0
        applied = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            try:
                with self.engine.begin() as conn:
                    if not self._lock(conn, projection.checkpoint_name, wait):
                        break  # another runner has this projection; it will do the work
                    count, _ = self._apply_next(
                        conn,
                        projection,
                        self._live[projection.name],
                        projection.checkpoint_name,
                        self.batch_size,
                    )
            except OperationalError as error:
                if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                break  # waited WAIT_FOR_LOCK for a stuck runner: read what is there
            applied += count
            batches += 1
            if count < self.batch_size:
                break  # caught up: an empty batch would only cost another transaction
        return applied

    def catch_up_together(self, *, max_batches: int = 4) -> int:
        """Every projection from one read of the log per batch (the scheduler's loop).

        Five projections each reading, decoding and checking the same new events cost five
        times what one read does; here the events after the lowest checkpoint are read once
        and each projection applies, in its own transaction, those beyond its own checkpoint.
        All of them in one transaction per batch; when one fails, the batch is applied again
        projection by projection, and one failing does not stop the others: they apply the
        batch, then its error is raised.
        Returns the most events any one projection applied (a full batch means a backlog).
        """
        most = 0
        for _ in range(max_batches):
            behind = self._behind()
            if not behind:
                break
            low = min(behind.values())
            batch = self.store.read_all(after=low, limit=self.batch_size, settle=self.settle)
            if not batch:
                break
            try:
                applied = self._apply_together(list(behind), low, batch)
            except Exception:  # one of them failed: each alone, so that the others go on
                log.debug("a projection failed in the shared batch; applying one by one")
                applied = self._apply_each(list(behind), low, batch)
            most = max(most, applied)
            if len(batch) < self.batch_size:
                break
        return most

    def _behind(self) -> dict[str, int]:
        """Projection → checkpoint, for each current projection behind the head."""
        head, done = self._head_and_checkpoints()
        behind = {name: at for name, at in done.items() if at < head}
        return {n: at for n, at in behind.items() if not self._stale(self._projections[n])}

    def _head_and_checkpoints(self) -> tuple[int, dict[str, int]]:
        """The head of the log and every projection's checkpoint (0 if it has none yet)."""
        names = {p.checkpoint_name: p.name for p in self.projections}
        with read_only_connection(self.engine) as conn:
            head = self.store.head_position(conn=conn)
            done = dict.fromkeys(names.values(), 0)
            for row in conn.execute(
                sa.select(checkpoint_table.c.name, checkpoint_table.c.position).where(
                    checkpoint_table.c.name.in_(list(names))
                )
            ):
                done[names[row.name]] = int(row.position)
        return head, done

    def _apply_together(self, names: list[str], low: int, batch: Sequence[RecordedEvent]) -> int:
        """Apply ``batch`` to every projection in ``names`` in one transaction: one lock
        statement, one checkpoint read and one checkpoint write for all of them, instead of
        a transaction of six statements each. Raises if any projection fails (nothing of
        the batch is kept); returns the most events one projection applied."""
        projections = [self._projections[name] for name in names]
        end = batch[-1].position
        applied = 0
        with self.engine.begin() as conn:
            held = self._try_locks(conn, [p.checkpoint_name for p in projections])
            at = load_checkpoints(conn, held)
            moved: list[str] = []
            for projection in projections:
                after = at.get(projection.checkpoint_name)
                if after is None or after < low or after >= end:
                    continue  # held elsewhere, moved back (a rebuild) or on past this batch
                events = [recorded for recorded in batch if recorded.position > after]
                projection.apply(conn, self._live[projection.name], events)
                moved.append(projection.checkpoint_name)
                applied = max(applied, len(events))
            save_checkpoints(conn, moved, end)
        return applied

    def _apply_each(self, names: list[str], low: int, batch: Sequence[RecordedEvent]) -> int:
        """Each projection in its own transaction: one failing does not stop the others
        (they apply the batch, then its error is raised)."""
        applied, failed = 0, None
        for name in names:
            try:
                applied = max(applied, self._apply_shared(self._projections[name], low, batch))
            except Exception as error:  # the others go on; this one is retried next time
                log.exception("projection %s failed to apply a batch", name)
                failed = failed or error
        if failed is not None:
            raise failed
        return applied

    def _try_locks(self, conn: Connection, keys: list[str]) -> list[str]:
        """The projections' locks this transaction could take (the rest are held by another
        runner), in one round trip; like ``_lock``, it also spares the commit its flush wait."""
        if not self._postgres:
            return keys  # BEGIN IMMEDIATE already waited for the write lock
        taken = conn.execute(_TRY_LOCKS, {"keys": [lock_key(key) for key in keys]}).scalars().all()
        return [key for key, got in zip(keys, taken, strict=True) if got]

    def _apply_shared(
        self, projection: Projection, low: int, batch: Sequence[RecordedEvent]
    ) -> int:
        """Apply the part of ``batch`` (the events after ``low``) beyond ``projection``'s
        checkpoint, in its own transaction; 0 if another runner holds the projection or its
        checkpoint is outside the batch."""
        with self.engine.begin() as conn:
            if not self._lock(conn, projection.checkpoint_name, wait=False):
                return 0
            after = load_checkpoint(conn, projection.checkpoint_name)
            if after < low or after >= batch[-1].position:
                return 0  # moved back (a rebuild) or on past this batch: the next round sees
            events = [recorded for recorded in batch if recorded.position > after]
            projection.apply(conn, self._live[projection.name], events)
            save_checkpoint(conn, projection.checkpoint_name, batch[-1].position)
        return len(events)

    def _nothing_to_do(self, projection: Projection) -> bool:
        """Caught up, or stale: checked read-only, to spare SQLite a write lock."""
        if self._stale(projection):
            return True
        with read_only_connection(self.engine) as conn:
            return bool(conn.execute(_caught_up(projection.checkpoint_name)).scalar())

    def _stale(self, projection: Projection) -> bool:
        """Whether the stored tables have another version's shape.

        A stale projection's tables still have the old shape, so applying would fail on every
        batch (and every read that catches up first); it waits for its rebuild, its lag growing
        where ``status`` and /metrics show it. Asked every ``VERSION_RECHECK`` seconds, not on
        every catch-up: only a rebuild changes the version (by a newer release, in a rolling
        upgrade).
        """
        if time.monotonic() - self._current.get(projection.name, -VERSION_RECHECK) < (
            VERSION_RECHECK
        ):
            return False
        with read_only_connection(self.engine) as conn:
            recorded = conn.execute(
                sa.select(projection_state.c.version).where(
                    projection_state.c.name == projection.name
                )
            ).scalar()
        if recorded is not None and recorded != projection.version:
            log.warning(
                "projection %s is stale: run `dispatch projections rebuild %s`",
                projection.name,
                projection.name,
            )
            return True
        self._current[projection.name] = time.monotonic()
        return False

    def _apply_next(
        self,
        conn: Connection,
        projection: Projection,
        tables: dict[str, sa.Table],
        checkpoint: str,
        limit: int,
    ) -> tuple[int, int]:
        """One batch in the caller's transaction: (events applied, new checkpoint)."""
        after = load_checkpoint(conn, checkpoint)
        batch = self.store.read_all(after=after, limit=limit, conn=conn, settle=self.settle)
        if not batch:
            return 0, after
        projection.apply(conn, tables, batch)
        save_checkpoint(conn, checkpoint, batch[-1].position)
        return len(batch), batch[-1].position

    def _lock(self, conn: Connection, key: str, wait: bool) -> bool:
        """Take the projection's lock for this transaction (if free, or within
        ``WAIT_FOR_LOCK`` when ``wait``); on PostgreSQL the same round trip lets the batch
        commit without waiting for its WAL flush: a batch lost in a crash takes its
        checkpoint with it (one transaction), so it is simply applied again.
        """
        if not self._postgres:
            return True  # BEGIN IMMEDIATE already waited for the write lock
        no_flush_wait = sa.func.set_config("synchronous_commit", "off", True)
        if not wait:
            locked = sa.func.pg_try_advisory_xact_lock(lock_key(key))
            return bool(conn.execute(sa.select(locked, no_flush_wait)).first()[0])  # type: ignore[index]
        # Past the timeout the statement fails (``LOCK_NOT_AVAILABLE``, see ``_catch_up_one``).
        conn.execute(sa.select(sa.func.set_config("lock_timeout", WAIT_FOR_LOCK, True)))
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(key)), no_flush_wait))
        return True

    def lag(self) -> dict[str, int]:
        """Events each projection is behind the head of the log (a gauge for /metrics)."""
        head, done = self._head_and_checkpoints()
        return {name: max(0, head - at) for name, at in done.items()}

    def checkpoints(self) -> dict[str, int]:
        with read_only_connection(self.engine) as conn:
            return {p.name: load_checkpoint(conn, p.checkpoint_name) for p in self.projections}

    # -- rebuilding -----------------------------------------------------------------------

    def rebuild(self, name: str, *, progress: Progress | None = None) -> int:
        """Rebuild ``name`` from position 0 into shadow tables, then swap them in.

        The live tables keep serving (and catching up) until the swap; memory stays constant.
        ``progress(done, total)`` is called after every batch with events applied so far and
        the events known to be in the log. Returns the events applied. Raises
        ``ProjectionBusy`` if another process is rebuilding the same projection.
        """
        rebuild = ShadowRebuild(
            self.projection(name),
            store=self.store,
            live=self.tables(name),
            batch=self.rebuild_batch_size,
        )
        return rebuild.run(progress)
