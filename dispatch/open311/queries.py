"""Service requests read from the ``case_list`` and ``case_tasks`` projection tables.

``service_request_id`` is the case number (工单编号) a citizen quotes on the phone; the
``token`` handed out on POST is the case id.

Only cases filed through Open311 are published. A hotline case (phone, WeChat, a patrol…)
carries a caller's home address and words spoken in confidence to an operator: it is not
found here at all, not even by its number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.open311.mapping import CLOSED_STATES
from dispatch.projections.case_list import live_tables

ENDED_TASK_STATES = ("returned", "cancelled")
PUBLIC_CHANNELS = ("open311",)


@dataclass(frozen=True)
class RequestFilter:
    """GET requests: either case numbers (which override everything else) or the rest."""

    case_nos: Sequence[str] = ()
    service_codes: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()  # "open", "closed"
    page: int = 1
    page_size: int = 500


@dataclass(frozen=True)
class Found:
    row: Mapping[Any, Any]  # a case_list row
    reply_by: datetime | None


def find_requests(conn: Connection, wanted: RequestFilter) -> tuple[list[Found], int]:
    """The page of matching cases, newest first, with the total count."""
    cases = live_tables()["case_list"]
    conditions: list[Any] = [cases.c.channel.in_(PUBLIC_CHANNELS)]
    if wanted.case_nos:
        conditions.append(cases.c.case_no.in_(list(wanted.case_nos)))
    else:
        if wanted.service_codes:
            conditions.append(cases.c.category.in_(list(wanted.service_codes)))
        if wanted.start is not None:
            conditions.append(cases.c.received_at >= _utc(wanted.start))
        if wanted.end is not None:
            conditions.append(cases.c.received_at <= _utc(wanted.end))
        if set(wanted.statuses) == {"closed"}:
            conditions.append(cases.c.status.in_(CLOSED_STATES))
        elif set(wanted.statuses) == {"open"}:
            conditions.append(cases.c.status.not_in(CLOSED_STATES))
    offset = (wanted.page - 1) * wanted.page_size
    query = (
        sa.select(cases)
        .where(*conditions)
        .order_by(cases.c.received_at.desc(), cases.c.id)
        .limit(wanted.page_size)
        .offset(offset)
    )
    rows = list(conn.execute(query).mappings())
    total = conn.execute(sa.select(sa.func.count()).select_from(cases).where(*conditions))
    deadlines = lead_reply_by(conn, [row["id"] for row in rows])
    found = [Found(row, deadlines.get(row["id"])) for row in rows]
    return found, int(total.scalar() or 0)


def find_request(conn: Connection, case_no: str) -> Found | None:
    found, _total = find_requests(conn, RequestFilter(case_nos=[case_no], page_size=1))
    return found[0] if found else None


def case_no_for_token(conn: Connection, token: str) -> str | None:
    cases = live_tables()["case_list"]
    query = sa.select(cases.c.case_no).where(
        cases.c.id == token, cases.c.channel.in_(PUBLIC_CHANNELS)
    )
    return conn.execute(query).scalar()


def lead_reply_by(conn: Connection, case_ids: list[str]) -> dict[str, datetime]:
    """Each case's current lead task's reply deadline (the latest lead still in play)."""
    if not case_ids:
        return {}
    tasks = live_tables()["case_tasks"]
    query = (
        sa.select(tasks.c.case_id, tasks.c.reply_by)
        .where(
            tasks.c.case_id.in_(case_ids),
            tasks.c.role == "lead",
            tasks.c.state.not_in(ENDED_TASK_STATES),
        )
        .order_by(tasks.c.dispatched_at)
    )
    # Later rows (newer rounds) overwrite earlier ones.
    return {row.case_id: row.reply_by for row in conn.execute(query) if row.reply_by is not None}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
