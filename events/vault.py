"""Personal data (a reporter's name and phone) kept out of the event log.

Events carry only a ``ref``; the person's details live in ``personal_data`` and can be
erased (the row's data set to NULL) without touching a single hashed event.

Each row also carries a blind index of the phone (``phone_index``): an HMAC of the normalised
number under a key the database never holds, so "this caller's earlier cases" is one indexed
lookup, not a scan that opens every reporter, and a copy of the database alone does not give
the numbers back. Erasing a person erases the index too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.schema import personal_data
from events.store import utcnow

NOT_DIGITS = re.compile(r"\D")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
BACKFILL_CHUNK = 500


def new_ref() -> str:
    return "pd_" + uuid.uuid4().hex


def normalise_phone(phone: str | None) -> str | None:
    """The digits that identify a number however it was typed: ``+86 138-0013-8000``,
    ``0086 13800138000`` and ``13800138000`` are one mobile; a landline keeps its area code.
    None when nothing number-like is left."""
    if not phone:
        return None
    digits = NOT_DIGITS.sub("", phone.translate(FULL_WIDTH_DIGITS))
    for country in ("0086", "86"):
        if digits.startswith(country) and len(digits) - len(country) == 11:
            digits = digits[len(country) :]
            break
    return digits if len(digits) >= 5 else None


def phone_index(key: bytes, phone: str | None) -> str | None:
    """The blind index of ``phone`` under ``key`` (hex HMAC-SHA256), None without a number."""
    digits = normalise_phone(phone)
    if digits is None:
        return None
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


def store_personal_data(
    conn: Connection,
    data: dict[str, Any],
    *,
    ref: str | None = None,
    index_key: bytes | None = None,
) -> str:
    """Keep ``data`` under ``ref``; with ``index_key`` its phone is indexed as well."""
    ref = ref or new_ref()
    index = phone_index(index_key, data.get("phone")) if index_key is not None else None
    conn.execute(
        personal_data.insert().values(ref=ref, data=data, created_at=utcnow(), phone_index=index)
    )
    return ref


def load_personal_data(conn: Connection, refs: list[str]) -> dict[str, dict[str, Any] | None]:
    if not refs:
        return {}
    rows = conn.execute(
        sa.select(personal_data.c.ref, personal_data.c.data).where(personal_data.c.ref.in_(refs))
    )
    return {row.ref: row.data for row in rows}


def refs_with_phone(key: bytes, phone: str) -> sa.Select[Any]:
    """A select of the refs whose phone is ``phone`` (by the blind index; erased rows never
    match), for an ``IN`` clause."""
    wanted = phone_index(key, phone)
    query = sa.select(personal_data.c.ref)
    if wanted is None:
        return query.where(sa.false())
    return query.where(personal_data.c.phone_index == wanted)


def index_phones(conn: Connection, key: bytes, *, chunk: int = BACKFILL_CHUNK) -> int:
    """Index the phones of rows kept before the index existed (or under another key's
    absence); returns how many rows got an index. Rows without a phone are read again on
    the next run: they are few, as a reporter is kept only when a name or phone was given."""
    indexed = 0
    after = ""
    while True:
        rows = conn.execute(
            sa.select(personal_data.c.ref, personal_data.c.data)
            .where(
                personal_data.c.phone_index.is_(None),
                personal_data.c.erased_at.is_(None),
                personal_data.c.ref > after,
            )
            .order_by(personal_data.c.ref)
            .limit(chunk)
        ).all()
        if not rows:
            return indexed
        for row in rows:
            index = phone_index(key, (row.data or {}).get("phone"))
            if index is not None:
                conn.execute(
                    personal_data.update()
                    .where(personal_data.c.ref == row.ref)
                    .values(phone_index=index)
                )
                indexed += 1
        after = rows[-1].ref


def erase_personal_data(conn: Connection, ref: str) -> bool:
    """Forget the person behind ``ref``; returns False if the ref is unknown."""
    result = conn.execute(
        personal_data.update()
        .where(personal_data.c.ref == ref)
        .values(data=None, phone_index=None, erased_at=utcnow())
    )
    return result.rowcount > 0
