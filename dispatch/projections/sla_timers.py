"""SLA timers (预警/超期 timers): when each task's yellow and red warnings fall due.

A projection of the log, so timers survive any restart and a Redis flush: ``CaseDispatched``
sets six timers per task (sign, contact, reply × yellow, red), yellow at ``warn_at`` of the
time from dispatch to the deadline (``dispatch.catalogue.warning_time``), red at the deadline.
A stage the department has passed closes its timers; a raised warning, a reply, a cancel or an
approved return removes them; an approved extension moves the reply timers; a return that is
rejected (驳回) sends the task back to be signed, so its sign timers open again.

Park reviews (挂账到期) are timers too: ``CaseParked`` sets one per case at its ``review_on``
date; unparking, merging, closing or the raised ``CaseParkReviewDue`` removes it.

The SLA job reads ``due`` timers; the handler decides whether the warning still applies
(``raise_sla_warning`` drops it for a parked case or a task awaiting a return ruling).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.catalogue import warning_time
from dispatch.domain import events as ev
from dispatch.domain.events import registry
from dispatch.projections.base import Projection
from dispatch.projections.bulk import delete_keys, insert_rows
from events import RecordedEvent, as_utc
from events.types import UtcDateTime

STAGES = ("sign", "contact", "reply")
LEVELS = ("yellow", "red")
_CLOSES = {"TaskSigned": ("sign",), "CitizenContacted": ("sign", "contact")}
_ENDS_TASK = frozenset({"TaskReplied", "TaskCancelled", "TaskReturnApproved"})
_ENDS_CASE = frozenset({"CaseMerged", "CaseAnswered", "CaseClosed"})
_ENDS_PARKING = frozenset({"CaseUnparked", "CaseParkReviewDue", "CaseMerged", "CaseClosed"})
HANDLED = frozenset(
    {"CaseDispatched", "TaskReturnRejected", "ExtensionApproved", "SlaWarningRaised"}
    | {"CaseParked"}
    | set(_CLOSES)
    | _ENDS_TASK
    | _ENDS_CASE
    | _ENDS_PARKING
)


@dataclass(frozen=True)
class DueTimer:
    task_id: str
    stage: str
    level: str
    due_at: datetime


class SlaTimers(Projection):
    name = "sla_timers"
    version = 2  # 2: park_reviews

    def define(self, metadata: sa.MetaData, suffix: str = "") -> dict[str, sa.Table]:
        timers = sa.Table(
            f"sla_timers{suffix}",
            metadata,
            sa.Column("task_id", sa.String(64), primary_key=True),
            sa.Column("stage", sa.String(8), primary_key=True),
            sa.Column("level", sa.String(8), primary_key=True),
            sa.Column("case_id", sa.String(64), nullable=False),
            sa.Column("due_at", UtcDateTime(), nullable=False),
            sa.Column("started_at", UtcDateTime(), nullable=False),
            sa.Column("warn_at", sa.Float, nullable=False),
            sa.Column("closed", sa.Boolean, nullable=False),
        )
        sa.Index(f"ix_sla_timers{suffix}_due_at", timers.c.closed, timers.c.due_at)
        sa.Index(f"ix_sla_timers{suffix}_case_id", timers.c.case_id)
        reviews = sa.Table(
            f"park_reviews{suffix}",
            metadata,
            sa.Column("case_id", sa.String(64), primary_key=True),
            sa.Column("review_on", sa.Date, nullable=False),
        )
        sa.Index(f"ix_park_reviews{suffix}_review_on", reviews.c.review_on)
        return {"sla_timers": timers, "park_reviews": reviews}

    def apply(
        self, conn: Connection, tables: dict[str, sa.Table], batch: Sequence[RecordedEvent]
    ) -> None:
        timers, reviews = tables["sla_timers"], tables["park_reviews"]
        # Dispatches in a row set their timers in two statements for all of them (most of a
        # busy batch is new cases being dispatched); anything else is applied in order.
        dispatched: list[tuple[RecordedEvent, ev.CaseDispatched]] = []
        for recorded in batch:
            if recorded.type not in HANDLED:
                continue
            event = registry.decode(recorded)
            if isinstance(event, ev.CaseDispatched):
                dispatched.append((recorded, event))
                continue
            _set_timers(conn, timers, dispatched)
            dispatched = []
            _apply(conn, timers, recorded, event)
            _apply_parking(conn, reviews, recorded, event)
        _set_timers(conn, timers, dispatched)


def _apply_parking(
    conn: Connection, reviews: sa.Table, recorded: RecordedEvent, event: Any
) -> None:
    case_id = recorded.stream_id
    if isinstance(event, ev.CaseParked):
        conn.execute(reviews.delete().where(reviews.c.case_id == case_id))
        conn.execute(reviews.insert().values(case_id=case_id, review_on=event.review_on))
    elif recorded.type in _ENDS_PARKING:
        conn.execute(reviews.delete().where(reviews.c.case_id == case_id))


def _apply(conn: Connection, timers: sa.Table, recorded: RecordedEvent, event: Any) -> None:
    c = timers.c
    match event:
        case ev.TaskSigned() | ev.CitizenContacted():
            stages = _CLOSES[recorded.type]
            conn.execute(
                timers.update()
                .where(c.task_id == event.task_id, c.stage.in_(stages))
                .values(closed=True)
            )
        case ev.TaskReturnRejected():
            conn.execute(
                timers.update()
                .where(c.task_id == event.task_id, c.stage == "sign")
                .values(closed=False)
            )
        case ev.ExtensionApproved(task_id=task_id, reply_by=reply_by):
            _move_reply(conn, timers, task_id, reply_by)
        case ev.SlaWarningRaised(task_id=task_id, stage=stage, level=level):
            # A red warning makes the stage's yellow one moot.
            levels = LEVELS if level == "red" else (level,)
            conn.execute(
                timers.delete().where(c.task_id == task_id, c.stage == stage, c.level.in_(levels))
            )
        case ev.TaskReplied() | ev.TaskCancelled() | ev.TaskReturnApproved():
            conn.execute(timers.delete().where(c.task_id == event.task_id))
        case ev.CaseMerged() | ev.CaseAnswered() | ev.CaseClosed():
            conn.execute(timers.delete().where(c.case_id == recorded.stream_id))


def _set_timers(
    conn: Connection,
    timers: sa.Table,
    dispatched: Sequence[tuple[RecordedEvent, ev.CaseDispatched]],
) -> None:
    """The six timers of each dispatched task, replacing any it had."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for recorded, event in dispatched:
        started = recorded.recorded_at
        for stage in STAGES:
            deadline = getattr(event.deadlines, f"{stage}_by")
            # UTC throughout: SQLite keeps a timestamp's wall-clock digits and drops its offset.
            due = {"yellow": warning_time(started, deadline, event.warn_at), "red": deadline}
            for level in LEVELS:
                rows[(event.task_id, stage, level)] = {
                    "task_id": event.task_id,
                    "stage": stage,
                    "level": level,
                    "case_id": recorded.stream_id,
                    "due_at": as_utc(due[level]),
                    "started_at": started,
                    "warn_at": event.warn_at,
                    "closed": False,
                }
    if rows:
        delete_keys(conn, timers, "task_id", sorted({task for task, _, _ in rows}))
        insert_rows(conn, timers, list(rows.values()))


def _move_reply(conn: Connection, timers: sa.Table, task_id: str, reply_by: datetime) -> None:
    c = timers.c
    for row in conn.execute(
        sa.select(timers).where(c.task_id == task_id, c.stage == "reply")
    ).mappings():
        started = as_utc(row["started_at"])
        due = reply_by if row["level"] == "red" else warning_time(started, reply_by, row["warn_at"])
        due = as_utc(due)
        conn.execute(
            timers.update()
            .where(c.task_id == task_id, c.stage == "reply", c.level == row["level"])
            .values(due_at=due)
        )


def due_timers(
    conn: Connection, timers: sa.Table, now: datetime, *, limit: int = 1000
) -> list[DueTimer]:
    """Open timers due at ``now``, earliest first."""
    c = timers.c
    query = (
        sa.select(c.task_id, c.stage, c.level, c.due_at)
        .where(c.closed.is_(False), c.due_at <= as_utc(now))
        .order_by(c.due_at)
        .limit(limit)
    )
    return [
        DueTimer(row.task_id, row.stage, row.level, as_utc(row.due_at))
        for row in conn.execute(query)
    ]


@dataclass(frozen=True)
class DueReview:
    case_id: str
    review_on: date


def due_park_reviews(
    conn: Connection, reviews: sa.Table, today: date, *, limit: int = 1000
) -> list[DueReview]:
    """Parked cases whose ``review_on`` is ``today`` (the centre's local date) or earlier."""
    query = (
        sa.select(reviews.c.case_id, reviews.c.review_on)
        .where(reviews.c.review_on <= today)
        .order_by(reviews.c.review_on, reviews.c.case_id)
        .limit(limit)
    )
    return [DueReview(row.case_id, row.review_on) for row in conn.execute(query)]
