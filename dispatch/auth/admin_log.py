"""The admin log (管理操作日志): who added, changed, disabled or re-passworded a user, loaded a
catalogue, issued or revoked an API key, and when (migration 0013).

A row is written in the same transaction as the change it records, so there is never a change
without its row nor a row without its change. Append-only: nothing here updates or deletes.
Passwords and keys are never written, only that they were set or issued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.auth.users import metadata

if TYPE_CHECKING:
    from dispatch.catalogue import Catalogue

admin_log = sa.Table(
    "admin_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_admin_log_at", "at"),
)

AdminAction = Literal[
    "user_added",
    "user_changed",
    "user_disabled",
    "user_enabled",
    "password_reset",
    "catalogue_loaded",
    "api_key_added",
    "api_key_revoked",
]
DETAIL_MAX = 2000


@dataclass(frozen=True, slots=True)
class AdminEntry:
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


def record_admin_action(
    conn: Connection,
    *,
    actor: str,
    action: AdminAction,
    target: str,
    detail: str = "",
    now: datetime,
) -> None:
    """Append one row; call inside the transaction that makes the change."""
    conn.execute(
        admin_log.insert().values(
            at=now, actor=actor, action=action, target=target[:200], detail=detail[:DETAIL_MAX]
        )
    )


def catalogue_logged(actor: str, now: datetime) -> Callable[[Connection, int, Catalogue], None]:
    """The ``recorded`` hook of ``load_catalogue``: the load's row, in the load's transaction."""

    def record(conn: Connection, number: int, catalogue: Catalogue) -> None:
        record_admin_action(
            conn,
            actor=actor,
            action="catalogue_loaded",
            target=f"#{number}",
            detail=f"version={catalogue.version}",
            now=now,
        )

    return record


def recent_admin_actions(conn: Connection, *, limit: int = 50) -> list[AdminEntry]:
    query = sa.select(admin_log).order_by(admin_log.c.id.desc()).limit(limit)
    return [
        AdminEntry(
            at=row.at.replace(tzinfo=UTC) if row.at.tzinfo is None else row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            detail=row.detail,
        )
        for row in conn.execute(query)
    ]
