"""Signing in: a password checked outside any write transaction.

On SQLite a write transaction holds the database's one write lock (``BEGIN IMMEDIATE``), and
an argon2 check takes tens of milliseconds by design: checked inside one, twenty anonymous
sign-ins a second stalled every intake. So the user is read on a read-only connection, the
hash verified with no transaction open, and only an outdated hash is rewritten, in a short
transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from anyio import to_thread
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from dispatch.auth.passwords import (
    DEFAULT_HASHER,
    MAX_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from dispatch.auth.throttle import SignInGate
from dispatch.auth.users import User, normalise_username, user_of_row, users
from events.database import read_only_connection

T = TypeVar("T")


def authenticate(
    engine: Engine, username: str, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> User | None:
    """The active user with this username and password, or None.

    Every path verifies one hash (a dummy one for an unknown name), so the answer takes about
    as long whether or not the user exists. An outdated hash is rewritten only if no one
    changed the password meanwhile.
    """
    with read_only_connection(engine) as conn:
        row = conn.execute(
            sa.select(users).where(users.c.username == normalise_username(username))
        ).first()
    stored = dummy_hash() if row is None else row.password_hash
    matches = len(password) <= MAX_LENGTH and verify_password(stored, password, hasher=hasher)
    if row is None or not matches or not row.active:
        return None
    if needs_rehash(stored, hasher=hasher):
        upgraded = hash_password(password, hasher=hasher)
        with engine.begin() as conn:
            conn.execute(
                users.update()
                .where(users.c.id == row.id, users.c.password_hash == stored)
                .values(password_hash=upgraded)
            )
    return user_of_row(row)


def password_matches(
    engine: Engine, user_id: str, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> bool:
    """Whether ``password`` is the user's current one (checked outside any transaction)."""
    with read_only_connection(engine) as conn:
        stored = conn.execute(
            sa.select(users.c.password_hash).where(users.c.id == user_id)
        ).scalar()
    return (
        stored is not None
        and len(password) <= MAX_LENGTH
        and verify_password(stored, password, hasher=hasher)
    )


async def through_gate(
    gate: SignInGate,
    check: Callable[[], T | None],
    *,
    username: str,
    address: str | None,
    now: datetime,
) -> T | None:
    """Run a password ``check`` behind the throttle and a hashing slot, counting a ``None``
    as a failure against ``username`` and ``address``. Raises ``Throttled`` or ``Busy``.

    The throttle is asked again once a slot is held: a burst that queued before its own
    failures were counted is cut off as soon as they are. Every step that may block runs in
    a worker thread, and a sign-in waiting for a slot holds none.
    """
    await to_thread.run_sync(gate.check, username, address, now)
    async with gate.hashing():
        await to_thread.run_sync(gate.check, username, address, now)
        outcome = await to_thread.run_sync(check)
        if outcome is None:
            await to_thread.run_sync(gate.failed, username, address, now)
        else:
            await to_thread.run_sync(gate.succeeded, username)
    return outcome
