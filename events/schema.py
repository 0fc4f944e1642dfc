"""Tables of the event log (SQLAlchemy Core), shared by PostgreSQL and SQLite.

The DDL that makes ``events`` append-only (triggers) lives in the Alembic migration, because
it is dialect-specific SQL; these definitions are what the code reads and writes through.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events = sa.Table(
    "events",
    metadata,
    sa.Column("position", Position, primary_key=True, autoincrement=True),
    sa.Column("stream_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("meta", sa.JSON, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # PostgreSQL: the writing transaction's id, for safe tailing (see events.store).
    sa.Column("tx_id", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    sqlite_autoincrement=True,
)

# One row per command ever appended: the store refuses a second append with the same id.
commands = sa.Table(
    "commands",
    metadata,
    sa.Column("command_id", sa.String(128), primary_key=True),
    sa.Column("stream_id", sa.String(64), nullable=False),
    sa.Column("first_version", sa.Integer, nullable=False),
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.Column("last_position", Position, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", Position, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Periodic seals of the whole log, kept apart from ``events`` so that a stream deleted
# behind the triggers' back changes the cumulative hash and ``verify`` notices. Append-only
# by trigger too.
seals = sa.Table(
    "seals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("position", Position, nullable=False),
    sa.Column("event_count", Position, nullable=False),
    sa.Column("cumulative_hash", sa.String(64), nullable=False),
    sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    # HMAC-SHA256 of the seal with ``DISPATCH_SEAL_KEY`` (see events.integrity); NULL unsigned.
    sa.Column("hmac", sa.String(64), nullable=True),
)

# Personal data (a reporter's name and phone) lives here, referenced from events by ``ref``,
# so erasing a person never touches the hash chain.
personal_data = sa.Table(
    "personal_data",
    metadata,
    sa.Column("ref", sa.String(64), primary_key=True),
    sa.Column("data", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    # A blind index of the phone (HMAC of the normalised number, see events.vault): finds a
    # caller's cases without decrypting or scanning every reporter; NULL once erased.
    sa.Column("phone_index", sa.String(64), nullable=True, index=True),
)
