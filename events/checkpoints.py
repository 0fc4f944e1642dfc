"""Named positions in the log: how far a projection or the relay has read."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.schema import checkpoints


def load_checkpoint(conn: Connection, name: str) -> int:
    value = conn.execute(
        sa.select(checkpoints.c.position).where(checkpoints.c.name == name)
    ).scalar()
    return int(value or 0)


def save_checkpoint(conn: Connection, name: str, position: int) -> None:
    """Write ``position`` in the caller's transaction, so rows and checkpoint move together."""
    now = datetime.now(UTC)
    updated = conn.execute(
        checkpoints.update()
        .where(checkpoints.c.name == name)
        .values(position=position, updated_at=now)
    )
    if updated.rowcount == 0:
        conn.execute(checkpoints.insert().values(name=name, position=position, updated_at=now))


def all_checkpoints(conn: Connection) -> dict[str, int]:
    return {row.name: int(row.position) for row in conn.execute(sa.select(checkpoints))}
