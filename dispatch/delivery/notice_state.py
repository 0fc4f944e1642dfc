"""Delivery state of notices (通知送达): every delivery other than a task's dispatch.

One row per notice, keyed by ``notice_id`` = ``<case id>:<event version>:<department>``, so a
replayed or twice-relayed event finds its row and is never sent twice. Attempts claim the
row with a lease exactly as a task's delivery does (``state.claim_delivery`` with
``table=notice_deliveries``). The dispatch of a task keeps its own table (``deliveries``),
which the inbox and the reconciler read by task id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dispatch.delivery.state import DELIVERED, FAILED, PENDING, SETTLED, metadata
from events.types import UtcDateTime

notice_deliveries = sa.Table(
    "notice_deliveries",
    metadata,
    sa.Column("notice_id", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(64)),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("lease_until", UtcDateTime()),
    sa.Column("delivered_at", UtcDateTime()),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_notice_deliveries_department_state", "department", "state"),
    sa.Index("ix_notice_deliveries_case_id", "case_id"),
)


def notice_id(case_id: str, version: int, department: str) -> str:
    return f"{case_id}:{version}:{department}"


def record_inbox_notice(
    engine: Engine,
    *,
    key: str,
    kind: str,
    case_id: str,
    task_id: str | None,
    department: str,
    now: datetime,
) -> bool:
    """An inbox department reads the notice on its task (``urged``, the task's state): it is
    delivered as soon as it is recorded. False when it already was."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(notice_deliveries.c.state).where(notice_deliveries.c.notice_id == key)
        ).first()
        if row is not None and row.state == DELIVERED:
            return False
        values: dict[str, Any] = {
            "channel": "inbox",
            "state": DELIVERED,
            "last_error": None,
            "lease_until": None,
            "delivered_at": now,
            "updated_at": now,
        }
        if row is None:
            conn.execute(
                notice_deliveries.insert().values(
                    notice_id=key,
                    kind=kind,
                    case_id=case_id,
                    task_id=task_id,
                    department=department,
                    attempts=1,
                    **values,
                )
            )
        else:
            conn.execute(
                notice_deliveries.update()
                .where(notice_deliveries.c.notice_id == key)
                .values(**values)
            )
        return True


def notice_states(conn: Connection, case_id: str) -> dict[str, str]:
    query = sa.select(notice_deliveries.c.notice_id, notice_deliveries.c.state).where(
        notice_deliveries.c.case_id == case_id
    )
    return {key: state for key, state in conn.execute(query)}


def settled_notice_ids(conn: Connection, keys: list[str]) -> set[str]:
    """The notices whose delivery is over: delivered, or failed and waiting for a replay.
    A notice with no row, or still pending, was never sent (its job may have been lost)."""
    settled: set[str] = set()
    for start in range(0, len(keys), 500):
        query = sa.select(notice_deliveries.c.notice_id).where(
            notice_deliveries.c.notice_id.in_(keys[start : start + 500]),
            notice_deliveries.c.state.in_(SETTLED),
        )
        settled.update(conn.execute(query).scalars())
    return settled


def reset_notice(conn: Connection, key: str, *, now: datetime) -> None:
    """A replayed dead letter: the notice is pending again, with a fresh count of attempts."""
    conn.execute(
        notice_deliveries.update()
        .where(notice_deliveries.c.notice_id == key, notice_deliveries.c.state != DELIVERED)
        .values(state=PENDING, attempts=0, last_error=None, lease_until=None, updated_at=now)
    )


def fail_notice_again(conn: Connection, key: str, *, now: datetime) -> None:
    """Undo ``reset_notice`` when the replay could not be enqueued."""
    conn.execute(
        notice_deliveries.update()
        .where(notice_deliveries.c.notice_id == key, notice_deliveries.c.state == PENDING)
        .values(state=FAILED, updated_at=now)
    )
