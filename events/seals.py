"""Seals of the whole log: ``(position, event_count, cumulative_hash)``, signed with a key.

A seal says what the log held up to ``position``: the cumulative hash of every event's hash
in position order (``events.hashing.seal_hash``). The per-stream chains cannot show a stream
removed whole, or one event rewritten together with every later hash of its stream; a seal
can. Seals are HMAC-signed with a key (``DISPATCH_SEAL_KEY``) that never sits in the
database, so someone who can rewrite the events, their chains and the ``seals`` table alike
still cannot make seals that verify; and the latest seal, exported and kept elsewhere
(``dispatch seal export``), proves what the log was up to its position whatever happens to
the database since. Without a key, seals are unsigned and only catch damage.

Only events below the safe horizon are sealed (see ``events.store``): on PostgreSQL a
transaction that took position 7 can commit after one that took 8, and a seal at 8 taken
before 7 was visible would leave 7 out and make every later verify cry tamper.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.hashing import GENESIS, seal_hash
from events.schema import events, seals
from events.store import SAFE_HORIZON, as_utc, utcnow

SEAL_FORMAT = "street-whistle-seal/1"
_MAC_CONTEXT = "street-whistle/seal/v1"
_HEX = frozenset("0123456789abcdef")


class SealBroken(Exception):
    """The newest seal in the database is not one this key made: nothing is built on it."""


@dataclass(frozen=True, slots=True)
class Seal:
    position: int
    event_count: int
    cumulative_hash: str
    hmac: str | None = None
    sealed_at: datetime | None = None
    id: int | None = None  # the row in ``seals``; None for one read from a file

    def signed_with(self, key: str) -> bool:
        expected = seal_mac(key, self.position, self.event_count, self.cumulative_hash)
        return self.hmac is not None and hmac.compare_digest(self.hmac, expected)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": SEAL_FORMAT,
            "position": self.position,
            "event_count": self.event_count,
            "cumulative_hash": self.cumulative_hash,
            "hmac": self.hmac,
            "sealed_at": None if self.sealed_at is None else self.sealed_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Seal:
        """A seal written by ``as_json``; ``ValueError`` saying what is wrong otherwise."""
        if not isinstance(data, dict) or data.get("format") != SEAL_FORMAT:
            raise ValueError(f"not an exported seal (expected format {SEAL_FORMAT!r})")
        position, count = data.get("position"), data.get("event_count")
        cumulative, mac = data.get("cumulative_hash"), data.get("hmac")
        if not isinstance(position, int) or not isinstance(count, int) or position < 1:
            raise ValueError("position and event_count must be positive whole numbers")
        if not _is_digest(cumulative):
            raise ValueError("cumulative_hash must be 64 hexadecimal characters")
        if mac is not None and not _is_digest(mac):
            raise ValueError("hmac must be 64 hexadecimal characters, or null")
        sealed = data.get("sealed_at")
        return cls(
            position=position,
            event_count=count,
            cumulative_hash=cumulative,
            hmac=mac,
            sealed_at=datetime.fromisoformat(sealed) if isinstance(sealed, str) else None,
        )


def seal_mac(key: str, position: int, event_count: int, cumulative_hash: str) -> str:
    message = f"{_MAC_CONTEXT}\n{position}\n{event_count}\n{cumulative_hash}"
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def all_seals(engine: Engine) -> list[Seal]:
    with engine.connect().execution_options(read_only=True) as conn:
        rows = conn.execute(sa.select(seals).order_by(seals.c.position, seals.c.id))
        return [_seal(row) for row in rows]


def latest_seal(engine: Engine) -> Seal | None:
    query = sa.select(seals).order_by(seals.c.position.desc(), seals.c.id.desc()).limit(1)
    with engine.connect().execution_options(read_only=True) as conn:
        row = conn.execute(query).first()
    return None if row is None else _seal(row)


def seal_log(engine: Engine, *, key: str | None = None) -> Seal | None:
    """Seal every event below the safe horizon; returns the new seal, the latest one when
    nothing was appended since, or None while the log is empty.

    It goes on from the latest seal. With a key, that seal must carry the key's signature
    (or be one of the unsigned seals made before there was a key): a seal forged in the
    database is never extended and signed (``SealBroken``).
    """
    last = latest_seal(engine)
    if key is not None and last is not None and _not_ours(engine, last, key):
        raise SealBroken(
            f"seal #{last.id} at position {last.position} does not carry this key's "
            "signature: the seals table was rewritten, or DISPATCH_SEAL_KEY changed; "
            "run `dispatch verify` (with --against an exported seal)"
        )
    cumulative, position, count = (
        (last.cumulative_hash, last.position, last.event_count) if last else (GENESIS, 0, 0)
    )
    after = position
    with engine.connect().execution_options(read_only=True, stream_results=True) as conn:
        for row in sealable_hashes(conn, after=after):
            cumulative = seal_hash(cumulative, row.hash)
            position = row.position
            count += 1
    if position == after:
        return last
    mac = None if key is None else seal_mac(key, position, count, cumulative)
    sealed_at = utcnow()
    with engine.begin() as conn:
        seal_id = conn.execute(
            seals.insert()
            .values(
                position=position,
                event_count=count,
                cumulative_hash=cumulative,
                sealed_at=sealed_at,
                hmac=mac,
            )
            .returning(seals.c.id)
        ).scalar_one()
    return Seal(position, count, cumulative, mac, sealed_at, seal_id)


def sealable_hashes(conn: Connection, *, after: int) -> Iterator[sa.Row[Any, Any]]:
    """``(position, hash)`` of the events after ``after`` that may be sealed: on PostgreSQL
    only those below the safe horizon, which always form an unbroken prefix of the log."""
    query = sa.select(events.c.position, events.c.hash).where(events.c.position > after)
    if conn.dialect.name == "postgresql":
        # The horizon first, in its own statement: every transaction below it had finished
        # before the next statement's snapshot (events.store, safe tailing).
        horizon = conn.execute(SAFE_HORIZON).scalar_one()
        query = query.where(events.c.tx_id < horizon)
    yield from conn.execute(query.order_by(events.c.position)).yield_per(5000)


def _not_ours(engine: Engine, seal: Seal, key: str) -> bool:
    """A seal with another signature, or unsigned although signed seals exist."""
    if seal.signed_with(key):
        return False
    if seal.hmac is not None:
        return True
    query = sa.select(sa.exists().where(seals.c.hmac.is_not(None)))
    with engine.connect().execution_options(read_only=True) as conn:
        return bool(conn.execute(query).scalar())


def _seal(row: sa.Row[Any]) -> Seal:
    return Seal(
        position=row.position,
        event_count=row.event_count,
        cumulative_hash=row.cumulative_hash,
        hmac=row.hmac,
        sealed_at=as_utc(row.sealed_at),
        id=row.id,
    )


def _is_digest(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX
