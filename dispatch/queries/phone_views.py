"""The access log of full-phone views (DESIGN.md §8.2): every time a liaison is shown a
reporter's full number, who, when, which case, for which department and by which route.

Kept in its own table (migration 0009), never in the event log: it records who looked, not
what happened to the case, and it must not change a case's version or hash chain. The rows
are written by the reads that show the number (the API's case, the console's case page), in
a short transaction of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dispatch.queries.tasks import iso

metadata = sa.MetaData()

phone_access_log = sa.Table(
    "phone_access_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("department", sa.String(64), nullable=True),
    sa.Column("route", sa.String(200), nullable=False),
    sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_phone_access_log_case", "case_id", "viewed_at"),
)


class Looker(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def department(self) -> str | None: ...


def record_phone_view(
    engine: Engine, case_id: str, viewer: Looker, *, route: str, now: datetime
) -> None:
    """Log that ``viewer`` was shown the full phone of ``case_id``'s reporter."""
    with engine.begin() as conn:
        conn.execute(
            phone_access_log.insert().values(
                case_id=case_id,
                user_id=viewer.id,
                username=viewer.username,
                department=viewer.department,
                route=route[:200],
                viewed_at=now,
            )
        )


def phone_views(conn: Connection, case_id: str, *, limit: int = 500) -> list[dict[str, Any]]:
    """The case's full-phone views, newest first."""
    log = phone_access_log.c
    query = (
        sa.select(phone_access_log)
        .where(log.case_id == case_id)
        .order_by(log.viewed_at.desc(), log.id.desc())
        .limit(limit)
    )
    return [
        {
            "case_id": row.case_id,
            "user_id": row.user_id,
            "username": row.username,
            "department": row.department,
            "route": row.route,
            "viewed_at": iso(row.viewed_at),
        }
        for row in conn.execute(query)
    ]
