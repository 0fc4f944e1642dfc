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
    save_checkpoints(conn, [name], position)


def load_checkpoints(conn: Connection, names: list[str]) -> dict[str, int]:
    """``load_checkpoint`` for several names in one round trip (0 for one not saved yet)."""
    if not names:
        return {}
    found = conn.execute(
        sa.select(checkpoints.c.name, checkpoints.c.position).where(checkpoints.c.name.in_(names))
    )
    return dict.fromkeys(names, 0) | {row.name: int(row.position) for row in found}


def save_checkpoints(conn: Connection, names: list[str], position: int) -> None:
    """``save_checkpoint`` of one position for several names, in one statement (and one
    more for names saved for the first time)."""
    if not names:
        return
    now = datetime.now(UTC)
    updated = conn.execute(
        checkpoints.update()
        .where(checkpoints.c.name.in_(names))
        .values(position=position, updated_at=now)
    )
    if updated.rowcount == len(names):
        return
    if updated.rowcount == 0:
        missing = names
    else:
        present = set(
            conn.execute(
                sa.select(checkpoints.c.name).where(checkpoints.c.name.in_(names))
            ).scalars()
        )
        missing = [name for name in names if name not in present]
    conn.execute(
        checkpoints.insert(),
        [{"name": name, "position": position, "updated_at": now} for name in missing],
    )


def all_checkpoints(conn: Connection) -> dict[str, int]:
    return {row.name: int(row.position) for row in conn.execute(sa.select(checkpoints))}
