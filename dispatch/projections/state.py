"""``projection_state``: the version of each projection's tables, as last created or rebuilt.

The runner compares it with ``Projection.version`` to find stale projections; a rebuild
records the new version in the transaction that swaps the new tables in.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.base import Projection

state_metadata = sa.MetaData()
projection_state = sa.Table(
    "projection_state",
    state_metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def record_version(conn: Connection, projection: Projection) -> None:
    """Note that the tables of ``projection`` now have its current shape."""
    table = projection_state
    values = {"version": projection.version, "updated_at": datetime.now(UTC)}
    updated = conn.execute(table.update().where(table.c.name == projection.name), values)
    if updated.rowcount == 0:
        conn.execute(table.insert().values(name=projection.name, **values))
