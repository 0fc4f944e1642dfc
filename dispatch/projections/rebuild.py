"""Rebuilding a projection from position 0 into shadow tables while the live ones serve.

1. Create ``<table>_shadow`` (dropping a leftover from a crashed rebuild), without its
   secondary indexes: filling a table and then indexing it is cheaper than keeping indexes
   up to date row by row.
2. Fill it in batches, each its own transaction, so memory stays constant. A projection that
   declares ``per_stream`` is fed whole streams (``ORDER BY stream_id, version``, read by
   ``events.scan``, every stream whole in one page) up to the head seen at the start,
   through ``Projection.fill`` (and ``fill_done`` after the last page): each of its rows is
   then written once, inserted rather than upserted, which is what makes a rebuild fast.
   Others are fed in position order.
3. Build the indexes and (PostgreSQL) ``ANALYZE`` the tables: the planner's statistics
   for freshly filled tables are otherwise empty, and its guesses make queries on them
   several times slower. The statistics move with the tables when they are renamed.
4. Follow the log in position order from there until nearly caught up.
5. In ONE transaction (holding the projection's advisory lock on PostgreSQL, so no live batch
   interleaves): apply the last events, drop the live tables, rename shadow → live (indexes,
   primary keys and sequences too), move the checkpoint and record the projection's version.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.base import Projection, lock_key
from dispatch.projections.state import record_version
from events import EventStore, checkpoint_table, event_table, safe_head, scan_streams
from events.checkpoints import load_checkpoint, save_checkpoint

SHADOW = "_shadow"
Progress = Callable[[int, int], None]
COLLECT_EVERY = 32  # pages of a fill between two collections of cyclic garbage


class ProjectionBusy(RuntimeError):
    """Another process is rebuilding the same projection."""


@contextmanager
def young_collections_only() -> Iterator[None]:
    """Switch off the automatic cyclic collector; the caller collects the young generations.

    A fill allocates millions of short-lived objects (events, rows, dicts), which reference
    counting frees. The collector, run every few hundred allocations, walks them for cycles
    there are none of, and every so often walks the whole heap: a tenth of a rebuild's time.
    The caller runs ``gc.collect(1)`` every ``COLLECT_EVERY`` pages instead, so whatever
    cycles the database layer leaves behind are still freed and memory stays constant.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ShadowRebuild:
    """One rebuild of ``projection`` from ``store``'s log into new tables that replace
    ``live``, reading ``batch`` events at a time."""

    def __init__(
        self, projection: Projection, *, store: EventStore, live: dict[str, sa.Table], batch: int
    ) -> None:
        self.store = store
        self.engine = store.engine
        self.projection = projection
        self.postgres = self.engine.dialect.name == "postgresql"
        self.batch = batch
        self.shadow_checkpoint = f"{projection.checkpoint_name}:shadow"
        self.shadow = projection.define(sa.MetaData(), SHADOW)
        self.live = live

    def run(self, progress: Progress | None = None) -> int:
        report = progress or (lambda done, total: None)
        with self.engine.connect() as guard:
            self._hold_lock(guard)
            try:
                self._create_shadow()
                done = self._fill(report)
                done += self._swap()
            finally:
                self._release_lock(guard)
        report(done, done)
        return done

    def _create_shadow(self) -> None:
        with self.engine.begin() as conn:
            for table in reversed(list(self.shadow.values())):
                table.drop(conn, checkfirst=True)
            for table in self.shadow.values():
                conn.execute(sa.schema.CreateTable(table))  # indexes come after the fill
            save_checkpoint(conn, self.shadow_checkpoint, 0)

    def _index_shadow(self) -> None:
        with self.engine.begin() as conn:
            for table in self.shadow.values():
                for index in table.indexes:
                    index.create(conn)
        if self.postgres:
            with self.engine.begin() as conn:
                for table in self.shadow.values():
                    conn.exec_driver_sql(
                        f"ANALYZE {self.engine.dialect.identifier_preparer.quote(table.name)}"
                    )

    def _reader(self) -> Connection:
        """A read-only connection: on SQLite it must not take the write lock."""
        return self.engine.connect().execution_options(read_only=True)

    def _fill(self, report: Progress) -> int:
        with self._reader() as conn:
            upto = safe_head(conn)
            total = conn.execute(
                sa.select(sa.func.count())
                .select_from(event_table)
                .where(event_table.c.position <= upto)
            ).scalar_one()
        done = 0
        if self.projection.per_stream:
            with (
                self._reader() as reader,
                young_collections_only(),
                # Closed first if a page fails: the scan stops reading before the reader
                # connection goes back to the pool.
                closing(scan_streams(reader, upto, self.batch)) as pages,
            ):
                for number, page in enumerate(pages, 1):
                    with self.engine.begin() as conn:
                        self.projection.fill(conn, self.shadow, page)
                    done += len(page)
                    report(done, total)
                    if number % COLLECT_EVERY == 0:
                        gc.collect(1)
            with self.engine.begin() as conn:
                self.projection.fill_done(conn, self.shadow)
                save_checkpoint(conn, self.shadow_checkpoint, upto)
        self._index_shadow()
        while True:
            with self.engine.begin() as conn:
                count, position = self._apply_next(conn)
                head = self.store.head_position(conn=conn)
            done += count
            report(done, max(total, done + head - position))
            if count < self.batch:
                return done

    def _apply_next(self, conn: Connection) -> tuple[int, int]:
        after = load_checkpoint(conn, self.shadow_checkpoint)
        # No settling: what is not safe yet is caught up by the live runner after the swap.
        batch = self.store.read_all(after=after, limit=self.batch, conn=conn, settle=0)
        if not batch:
            return 0, after
        self.projection.apply(conn, self.shadow, batch)
        save_checkpoint(conn, self.shadow_checkpoint, batch[-1].position)
        return len(batch), batch[-1].position

    def _swap(self) -> int:
        """Finish the shadow, replace the live tables and move the checkpoint, atomically."""
        applied = 0
        with self.engine.begin() as conn:
            if self.postgres:
                # Wait (not try): the live runner's batches are short, and the swap must win.
                key = lock_key(self.projection.checkpoint_name)
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            while True:
                count, position = self._apply_next(conn)
                applied += count
                if count == 0:
                    break
            for table in reversed(list(self.live.values())):
                table.drop(conn, checkfirst=True)
            for logical, table in self.shadow.items():
                self._rename(conn, table, self.live[logical])
            save_checkpoint(conn, self.projection.checkpoint_name, position)
            conn.execute(
                checkpoint_table.delete().where(checkpoint_table.c.name == self.shadow_checkpoint)
            )
            record_version(conn, self.projection)
        return applied

    def _rename(self, conn: Connection, shadow: sa.Table, live: sa.Table) -> None:
        quote = self.engine.dialect.identifier_preparer.quote
        conn.exec_driver_sql(f"ALTER TABLE {quote(shadow.name)} RENAME TO {quote(live.name)}")
        if self.postgres:
            # Renaming is instant; recreating indexes here would hold the swap's locks for as
            # long as an index build over the whole table. Primary-key indexes and sequences
            # are renamed too, or the next rebuild's shadow would clash with them.
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
                    conn.exec_driver_sql(f"ALTER {kind} {quote(old)} RENAME TO {quote(new)}")
        else:
            # SQLite cannot rename an index: drop the shadow-named ones, build the live ones.
            for index in shadow.indexes:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(str(index.name))}")
            for index in live.indexes:
                index.create(conn)

    def _hold_lock(self, guard: Connection) -> None:
        """Two rebuilds of one projection would drop each other's shadow tables."""
        if not self.postgres:
            return  # SQLite: one host, and the CLI is the only caller
        key = lock_key(f"rebuild:{self.projection.name}")
        if not guard.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar():
            raise ProjectionBusy(f"projection {self.projection.name!r} is already being rebuilt")
        guard.commit()

    def _release_lock(self, guard: Connection) -> None:
        if self.postgres:
            guard.execute(
                sa.select(sa.func.pg_advisory_unlock(lock_key(f"rebuild:{self.projection.name}")))
            )
            guard.commit()
