"""API keys for Open311 clients: shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.auth.admin_log import record_admin_action
from dispatch.auth.users import metadata

api_keys = sa.Table(
    "api_keys",
    metadata,
    # A fast unsalted digest is enough: keys are 256 random bits, not guessable passwords,
    # and a digest is what lets a key be found by a primary-key lookup.
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_api_keys_name", "name"),
)

KEY_PREFIX = "sw_"  # makes a leaked key recognisable to secret scanners
NAME_MAX = 128


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_api_key(conn: Connection, name: str, *, now: datetime | None = None) -> str:
    """Store a new key for the client ``name`` and return it in plain text (shown only once)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"an API key needs a name of 1 to {NAME_MAX} characters")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        api_keys.insert().values(
            key_hash=digest(key), name=name, created_at=now or datetime.now(UTC), revoked_at=None
        )
    )
    return key


def check_api_key(conn: Connection, key: str) -> str | None:
    """The name of the client holding this key, or None if it is unknown or revoked."""
    row = conn.execute(
        sa.select(api_keys.c.name).where(
            api_keys.c.key_hash == digest(key), api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else row.name


def revoke_api_keys(conn: Connection, name: str, *, now: datetime | None = None) -> int:
    """Revoke every live key of the client ``name``; returns how many were revoked."""
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.name == name.strip(), api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now or datetime.now(UTC))
    )
    return result.rowcount


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What is known of a key: never the key, only who holds it and since when."""

    name: str
    fingerprint: str  # the first characters of the digest, to tell a client's keys apart
    created_at: datetime
    revoked_at: datetime | None


def list_api_keys(conn: Connection) -> list[ApiKeyRecord]:
    query = sa.select(api_keys).order_by(api_keys.c.name, api_keys.c.created_at)
    return [
        ApiKeyRecord(
            name=row.name,
            fingerprint=row.key_hash[:12],
            created_at=_utc(row.created_at),
            revoked_at=None if row.revoked_at is None else _utc(row.revoked_at),
        )
        for row in conn.execute(query)
    ]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def issue_api_key(conn: Connection, name: str, *, actor: str, now: datetime) -> str:
    """``add_api_key`` and its row in the admin log (the name and fingerprint, never the key)."""
    key = add_api_key(conn, name, now=now)
    record_admin_action(
        conn,
        actor=actor,
        action="api_key_added",
        target=name.strip(),
        detail=f"fingerprint={digest(key)[:12]}",
        now=now,
    )
    return key


def revoke_client_keys(conn: Connection, name: str, *, actor: str, now: datetime) -> int:
    """``revoke_api_keys`` and, when any was live, its row in the admin log."""
    revoked = revoke_api_keys(conn, name, now=now)
    if revoked:
        record_admin_action(
            conn,
            actor=actor,
            action="api_key_revoked",
            target=name.strip(),
            detail=f"keys={revoked}",
            now=now,
        )
    return revoked
