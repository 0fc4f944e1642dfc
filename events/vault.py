"""Personal data (a reporter's name and phone) kept out of the event log.

Events carry only a ``ref``; the person's details live in ``personal_data`` and can be
erased (the row's data set to NULL) without touching a single hashed event.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from events.schema import personal_data
from events.store import utcnow


def new_ref() -> str:
    return "pd_" + uuid.uuid4().hex


def store_personal_data(conn: Connection, data: dict[str, Any], *, ref: str | None = None) -> str:
    ref = ref or new_ref()
    conn.execute(personal_data.insert().values(ref=ref, data=data, created_at=utcnow()))
    return ref


def load_personal_data(conn: Connection, refs: list[str]) -> dict[str, dict[str, Any] | None]:
    if not refs:
        return {}
    rows = conn.execute(
        sa.select(personal_data.c.ref, personal_data.c.data).where(personal_data.c.ref.in_(refs))
    )
    return {row.ref: row.data for row in rows}


def erase_personal_data(conn: Connection, ref: str) -> bool:
    """Forget the person behind ``ref``; returns False if the ref is unknown."""
    result = conn.execute(
        personal_data.update()
        .where(personal_data.c.ref == ref)
        .values(data=None, erased_at=utcnow())
    )
    return result.rowcount > 0
