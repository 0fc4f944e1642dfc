"""What a projection is: tables it owns, and a function that folds a batch of events into them.

A projection never reads the clock or the store; ``apply`` sees only the batch and the rows
it wrote before, so replaying the log from position 0 always produces the same tables.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events import RecordedEvent


class Projection(ABC):
    """A read model kept by the :class:`~dispatch.projections.runner.ProjectionRunner`.

    ``name`` names the checkpoint (``projection:<name>``) and the projection on the CLI.
    Bump ``version`` whenever the shape of the tables changes: ``ensure_tables`` then reports
    the projection as stale, and a rebuild creates the new shape.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    # True when ``apply``'s result depends only on each stream's own events in version
    # order, never on how streams interleave: a rebuild may then feed it whole streams.
    per_stream: ClassVar[bool] = False

    @abstractmethod
    def define(self, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        """Declare the tables on ``metadata``: logical name → table named ``logical + suffix``.

        ``suffix`` is ``""`` for the live tables and ``"_shadow"`` during a rebuild; index
        names must carry it too, because index names are unique per schema.
        """

    @abstractmethod
    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        """Fold ``batch`` (in position order) into ``tables`` inside the runner's transaction."""

    def fill(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        """Fold whole streams that ``tables`` have never seen: a rebuild's first pass over a
        ``per_stream`` projection, each stream in version order and in one batch only.

        Nothing of these streams is stored yet, so an override may skip loading rows and
        insert instead of upsert; it must leave the same rows as ``apply`` would.
        """
        self.apply(conn, tables, batch)

    def fill_done(self, conn: Connection, tables: dict[str, sa.Table]) -> None:
        """After a rebuild's last ``fill``: write whatever ``fill`` held back (the same
        rebuild's ``tables``); nothing by default."""
        return None

    @property
    def checkpoint_name(self) -> str:
        return f"projection:{self.name}"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key (Python's ``hash`` is salted per process)."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
