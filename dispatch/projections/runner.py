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
by ``Projection.version`` in the ``projection_state`` table instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dispatch.projections.base import Projection
from events import EventStore
from events.checkpoints import load_checkpoint, save_checkpoint
from events.schema import checkpoints

SHADOW = "_shadow"
Progress = Callable[[int, int], None]

state_metadata = sa.MetaData()
projection_state = sa.Table(
    "projection_state",
    state_metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key (Python's ``hash`` is salted per process)."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class ProjectionBusy(RuntimeError):
    """Another process is rebuilding the same projection."""


class ProjectionRunner:
    def __init__(
        self,
        engine: Engine,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        rebuild_batch_size: int = 5000,
    ) -> None:
        self.engine = engine
        self.store = EventStore(engine)
        self.batch_size = batch_size
        # Rebuilds take bigger bites: nobody waits on the shadow tables' transactions.
        self.rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self._postgres = engine.dialect.name == "postgresql"
        self._projections = {p.name: p for p in projections}
        self._live_metadata = sa.MetaData()
        self._live = {p.name: p.define(self._live_metadata) for p in projections}

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
        with self.engine.begin() as conn:
            state_metadata.create_all(conn, checkfirst=True)
            self._live_metadata.create_all(conn, checkfirst=True)
            recorded = {row.name: row.version for row in conn.execute(sa.select(projection_state))}
            for projection in self._projections.values():
                if projection.name not in recorded:
                    self._record_version(conn, projection, insert=True)
                elif recorded[projection.name] != projection.version:
                    stale.append(projection.name)
        return stale

    def ensure_current(self, *, progress: Progress | None = None) -> list[str]:
        """``ensure_tables``, then rebuild every stale projection; returns their names."""
        stale = self.ensure_tables()
        for name in stale:
            self.rebuild(name, progress=progress)
        return stale

    def _record_version(self, conn: Connection, projection: Projection, *, insert: bool) -> None:
        values = {"version": projection.version, "updated_at": datetime.now(UTC)}
        if insert:
            conn.execute(projection_state.insert().values(name=projection.name, **values))
        else:
            conn.execute(
                projection_state.update()
                .where(projection_state.c.name == projection.name)
                .values(**values)
            )

    # -- catching up ----------------------------------------------------------------------

    def catch_up(self, name: str | None = None, *, max_batches: int | None = None) -> int:
        """Apply new events to one projection (or all); returns how many were applied."""
        targets = [self.projection(name)] if name else self.projections
        return sum(self._catch_up_one(p, max_batches) for p in targets)

    def _catch_up_one(self, projection: Projection, max_batches: int | None) -> int:
        if self._caught_up(projection):
            return 0  # spare SQLite a write lock when there is nothing to do
        applied = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            with self.engine.begin() as conn:
                if not self._try_lock(conn, projection.checkpoint_name):
                    break  # another runner has this projection; it will do the work
                count, _ = self._apply_next(
                    conn,
                    projection,
                    self._live[projection.name],
                    projection.checkpoint_name,
                    self.batch_size,
                )
            if count == 0:
                break
            applied += count
            batches += 1
        return applied

    def _caught_up(self, projection: Projection) -> bool:
        with self.engine.connect().execution_options(read_only=True) as conn:
            done = load_checkpoint(conn, projection.checkpoint_name)
            return self.store.head_position(conn=conn) <= done

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
        batch = self.store.read_all(after=after, limit=limit, conn=conn)
        if not batch:
            return 0, after
        projection.apply(conn, tables, batch)
        save_checkpoint(conn, checkpoint, batch[-1].position)
        return len(batch), batch[-1].position

    def _try_lock(self, conn: Connection, key: str) -> bool:
        if not self._postgres:
            return True
        return bool(
            conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(lock_key(key)))).scalar()
        )

    def lag(self) -> dict[str, int]:
        """Events each projection is behind the head of the log (a gauge for /metrics)."""
        with self.engine.connect().execution_options(read_only=True) as conn:
            head = self.store.head_position(conn=conn)
            done = {
                row.name: int(row.position)
                for row in conn.execute(
                    sa.select(checkpoints.c.name, checkpoints.c.position).where(
                        checkpoints.c.name.in_([p.checkpoint_name for p in self.projections])
                    )
                )
            }
        return {p.name: max(0, head - done.get(p.checkpoint_name, 0)) for p in self.projections}

    def checkpoints(self) -> dict[str, int]:
        with self.engine.connect().execution_options(read_only=True) as conn:
            return {p.name: load_checkpoint(conn, p.checkpoint_name) for p in self.projections}

    # -- rebuilding -----------------------------------------------------------------------

    def rebuild(self, name: str, *, progress: Progress | None = None) -> int:
        """Rebuild ``name`` from position 0 into shadow tables, then swap them in.

        The live tables keep serving (and catching up) until the swap. Memory stays constant:
        events are read ``rebuild_batch_size`` at a time, each batch its own transaction.
        ``progress(position, head)`` is called after every batch. Returns events applied.
        """
        projection = self.projection(name)
        shadow_checkpoint = f"{projection.checkpoint_name}:shadow"
        shadow = projection.define(sa.MetaData(), SHADOW)
        with self.engine.connect() as guard:
            self._hold_rebuild_lock(guard, projection)
            try:
                with self.engine.begin() as conn:
                    for table in reversed(list(shadow.values())):
                        table.drop(conn, checkfirst=True)
                    for table in shadow.values():
                        table.create(conn)
                    save_checkpoint(conn, shadow_checkpoint, 0)
                applied = 0
                while True:
                    with self.engine.begin() as conn:
                        count, position = self._apply_next(
                            conn, projection, shadow, shadow_checkpoint, self.rebuild_batch_size
                        )
                    applied += count
                    if progress is not None:
                        progress(position, max(position, self.store.head_position()))
                    if count < self.rebuild_batch_size:
                        break
                applied += self._swap(projection, shadow, shadow_checkpoint)
            finally:
                self._release_rebuild_lock(guard, projection)
        return applied

    def _swap(
        self, projection: Projection, shadow: dict[str, sa.Table], shadow_checkpoint: str
    ) -> int:
        """In one transaction: finish the shadow, replace the live tables, move the checkpoint."""
        live = self._live[projection.name]
        applied = 0
        with self.engine.begin() as conn:
            if self._postgres:
                # Wait (not try): the live runner's batches are short, and the swap must win.
                key = lock_key(projection.checkpoint_name)
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            while True:
                count, position = self._apply_next(
                    conn, projection, shadow, shadow_checkpoint, self.rebuild_batch_size
                )
                applied += count
                if count == 0:
                    break
            for table in reversed(list(live.values())):
                table.drop(conn, checkfirst=True)
            for logical, table in shadow.items():
                self._rename(conn, table, live[logical])
            save_checkpoint(conn, projection.checkpoint_name, position)
            conn.execute(checkpoints.delete().where(checkpoints.c.name == shadow_checkpoint))
            self._record_version(conn, projection, insert=False)
        return applied

    def _rename(self, conn: Connection, shadow: sa.Table, live: sa.Table) -> None:
        preparer = self.engine.dialect.identifier_preparer
        conn.exec_driver_sql(
            f"ALTER TABLE {preparer.quote(shadow.name)} RENAME TO {preparer.quote(live.name)}"
        )
        if self._postgres:
            # Renaming is instant; recreating indexes here would hold the swap's locks for
            # as long as an index build on the whole table takes. The primary-key index and
            # any sequences are renamed too, or the next rebuild's shadow would clash.
            owned = conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
                    "WHERE i.indrelid = CAST(:t AS regclass) "
                    "UNION SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                    "WHERE s.relkind = 'S' AND d.refobjid = CAST(:t AS regclass)"
                ),
                {"t": live.name},
            ).scalars()
            for old in owned:
                if SHADOW in old:
                    new = old.replace(SHADOW, "", 1)
                    kind = "SEQUENCE" if old.endswith("_seq") else "INDEX"
                    conn.exec_driver_sql(
                        f"ALTER {kind} {preparer.quote(old)} RENAME TO {preparer.quote(new)}"
                    )
        else:
            # SQLite cannot rename an index: drop the shadow-named ones, build the live ones.
            for index in shadow.indexes:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {preparer.quote(index.name)}")
            for index in live.indexes:
                index.create(conn)

    def _hold_rebuild_lock(self, guard: Connection, projection: Projection) -> None:
        """Two rebuilds of one projection would drop each other's shadow tables."""
        if not self._postgres:
            return  # SQLite: one host, and the CLI is the only caller
        key = lock_key(f"rebuild:{projection.name}")
        if not guard.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar():
            raise ProjectionBusy(f"projection {projection.name!r} is already being rebuilt")
        guard.commit()

    def _release_rebuild_lock(self, guard: Connection, projection: Projection) -> None:
        if self._postgres:
            key = lock_key(f"rebuild:{projection.name}")
            guard.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            guard.commit()
