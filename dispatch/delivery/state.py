"""Delivery state (送达) of each task, and the dead letters a dispatcher can see and replay.

Delivery is separate from the task's state: a task can be ``dispatched`` in the log while its
webhook is still being retried. The delivery job writes here; the inbox reads join on it
(``delivery_states``), and the reconciler compares it with the log to find tasks never
delivered. A webhook attempt *claims* its row with a lease first, so two copies of one job
never post the same task at the same time.

A dead letter is a job that gave up: its kind, its arguments, the last error. Replaying one
closes it and resets the task's delivery, so both the replay's own enqueue and, failing that,
the reconciler run the job again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from dispatch.domain.ids import case_id_of
from events.database import skip_flush_wait
from events.types import UtcDateTime

metadata = sa.MetaData()

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
INBOX, WEBHOOK = "inbox", "webhook"
SETTLED = (DELIVERED, FAILED)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("task_id", sa.String(64), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("lease_until", UtcDateTime()),
    sa.Column("delivered_at", UtcDateTime()),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_deliveries_department_state", "department", "state"),
    sa.Index("ix_deliveries_state", "state"),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("job_id", sa.String(200), nullable=False),
    sa.Column("queue", sa.String(80), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("replayed_at", UtcDateTime()),
    sa.Column("replayed_by", sa.String(128)),
    sa.Index("ix_dead_letters_job_id", "job_id"),
    sa.Index("ix_dead_letters_replayed_at", "replayed_at"),
    sqlite_autoincrement=True,
)

IN_CHUNK = 500


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; they were written as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]


# -- deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An attempt's right to send until ``lease_until``: ``key`` is the row's primary key in
    ``table`` (a task id in ``deliveries``, a notice id in ``notice_deliveries``)."""

    key: str
    attempt: int
    lease_until: datetime
    table: sa.Table = deliveries


@dataclass(frozen=True)
class Busy:
    """Another attempt holds the task until ``until`` (or it is already settled: ``None``)."""

    until: datetime | None


@dataclass(frozen=True)
class InboxTask:
    """A task of a department on the built-in inbox, to be recorded as delivered."""

    task_id: str
    case_id: str
    department: str


# First deliveries, leaving alone a row already there (another process recorded it at the
# same moment). Built once per dialect and run with a list of rows: SQLAlchemy compiles it
# once and sends the rows as one multi-row INSERT ("insertmanyvalues"), where a ``.values``
# of the rows compiled anew for every batch (a tenth of the scheduler's CPU at 100 cases/s).
_FIRST_DELIVERIES = {
    name: insert(deliveries)
    .on_conflict_do_nothing(index_elements=["task_id"])
    .returning(deliveries.c.task_id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def record_inbox_delivery(
    engine: Engine, *, task_id: str, case_id: str, department: str, now: datetime
) -> bool:
    """The built-in inbox needs nothing sent: the task is delivered. False if it already was."""
    with engine.begin() as conn:
        # Nothing left the building: a record lost in a crash leaves the task undelivered,
        # and the reconciler delivers it again.
        skip_flush_wait(conn)
        return record_inbox_deliveries(conn, [InboxTask(task_id, case_id, department)], now) == 1


def record_inbox_deliveries(conn: Connection, tasks: Sequence[InboxTask], now: datetime) -> int:
    """Record ``tasks`` as delivered in ``conn``'s transaction; returns how many were not yet.

    The usual case, first deliveries, is one INSERT that leaves rows already there alone; a
    row already there in another state (its department moved to the inbox while a webhook
    to it was being retried) is settled as delivered by the inbox.
    """
    if not tasks:
        return 0
    rows = [
        {
            "task_id": task.task_id,
            "case_id": task.case_id,
            "department": task.department,
            "channel": INBOX,
            "state": DELIVERED,
            "attempts": 1,
            "delivered_at": now,
            "updated_at": now,
        }
        for task in tasks
    ]
    inserted = set(conn.execute(_FIRST_DELIVERIES[conn.dialect.name], rows).scalars())
    settled = 0
    for task in tasks:
        if task.task_id in inserted:
            continue
        row = _row(conn, task.task_id)
        if row is None or row.state == DELIVERED:
            continue
        conn.execute(
            deliveries.update()
            .where(deliveries.c.task_id == task.task_id)
            .values(
                channel=INBOX,
                state=DELIVERED,
                attempts=row.attempts + 1,
                last_error=None,
                lease_until=None,
                delivered_at=now,
                updated_at=now,
            )
        )
        settled += 1
    return len(inserted) + settled


def claim_delivery(
    engine: Engine,
    *,
    task_id: str,
    case_id: str,
    department: str,
    channel: str,
    now: datetime,
    lease: timedelta,
    table: sa.Table = deliveries,
    extra: dict[str, Any] | None = None,
) -> Claim | Busy:
    """Start an attempt: count it and take the lease, unless the row is settled or leased.

    ``task_id`` is the row's key in ``table``; ``extra`` holds the other columns a first
    attempt writes (a notice's kind and task)."""
    lease_until = now + lease
    key = _key(table)
    with engine.begin() as conn:
        row = _row(conn, task_id, table)
        if row is None:
            fresh = _insert(
                conn,
                table,
                **{key.name: task_id},
                case_id=case_id,
                department=department,
                channel=channel,
                state=PENDING,
                attempts=1,
                lease_until=lease_until,
                updated_at=now,
                **(extra or {}),
            )
            return Claim(task_id, 1, lease_until, table) if fresh else Busy(now + lease)
        if row.state != PENDING:
            return Busy(None)
        held = utc(row.lease_until)
        if held is not None and held > now:
            return Busy(held)
        taken = conn.execute(
            table.update()
            .where(key == task_id, table.c.state == PENDING, table.c.attempts == row.attempts)
            .values(
                channel=channel, attempts=row.attempts + 1, lease_until=lease_until, updated_at=now
            )
        )
        if taken.rowcount != 1:
            return Busy(lease_until)
        return Claim(task_id, row.attempts + 1, lease_until, table)


def record_delivered(engine: Engine, claim: Claim, *, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            claim.table.update()
            .where(_key(claim.table) == claim.key)
            .values(
                state=DELIVERED, last_error=None, lease_until=None, delivered_at=now, updated_at=now
            )
        )


def record_failed_attempt(
    engine: Engine,
    claim: Claim,
    *,
    error: str,
    now: datetime,
    dead_letter: dict[str, Any] | None = None,
) -> int | None:
    """Release the lease after a failed attempt; with ``dead_letter``, give up: the delivery
    is ``failed`` and the dead letter is written in the same transaction. Returns its id."""
    with engine.begin() as conn:
        conn.execute(
            claim.table.update()
            .where(_key(claim.table) == claim.key)
            .values(
                state=FAILED if dead_letter is not None else PENDING,
                last_error=error[:2000],
                lease_until=None,
                updated_at=now,
            )
        )
        if dead_letter is None:
            return None
        return add_dead_letter(conn, error=error, now=now, **dead_letter)


def delivery_states(conn: Connection, task_ids: list[str]) -> dict[str, str]:
    """``task_id → pending|delivered|failed`` for an inbox page (absent: not yet delivered)."""
    found: dict[str, str] = {}
    for chunk in _chunks(list(task_ids)):
        query = sa.select(deliveries.c.task_id, deliveries.c.state).where(
            deliveries.c.task_id.in_(chunk)
        )
        found.update({row.task_id: row.state for row in conn.execute(query)})
    return {task_id: found.get(task_id, PENDING) for task_id in task_ids}


def settled_task_ids(conn: Connection, task_ids: list[str]) -> set[str]:
    """The tasks whose delivery is over: delivered, or failed and waiting for a replay."""
    settled: set[str] = set()
    for chunk in _chunks(list(task_ids)):
        query = sa.select(deliveries.c.task_id).where(
            deliveries.c.task_id.in_(chunk), deliveries.c.state.in_(SETTLED)
        )
        settled.update(conn.execute(query).scalars())
    return settled


def count_deliveries(conn: Connection) -> dict[str, int]:
    query = sa.select(deliveries.c.state, sa.func.count()).group_by(deliveries.c.state)
    counts = {PENDING: 0, DELIVERED: 0, FAILED: 0}
    counts.update({state: int(n) for state, n in conn.execute(query)})
    return counts


def _key(table: sa.Table) -> sa.Column[Any]:
    return next(iter(table.primary_key.columns))


def _row(conn: Connection, key: str, table: sa.Table = deliveries) -> sa.Row | None:
    return conn.execute(sa.select(table).where(_key(table) == key)).first()


def _insert(conn: Connection, table: sa.Table = deliveries, /, **values: Any) -> bool:
    """Insert a delivery row; False when another process inserted it first."""
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True


# -- dead letters -----------------------------------------------------------------------------


def add_dead_letter(
    conn: Connection,
    *,
    kind: str,
    job_id: str,
    queue: str,
    payload: dict[str, Any],
    error: str,
    now: datetime,
) -> int:
    """Record a job that gave up; one open dead letter per job id (a second one is the first)."""
    existing = conn.execute(
        sa.select(dead_letters.c.id).where(
            dead_letters.c.job_id == job_id, dead_letters.c.replayed_at.is_(None)
        )
    ).scalar()
    if existing is not None:
        return int(existing)
    result = conn.execute(
        dead_letters.insert().values(
            kind=kind,
            job_id=job_id,
            queue=queue,
            payload=payload,
            error=error[:8000],
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])


def open_dead_letter_job_ids(conn: Connection, job_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(list(job_ids)):
        query = sa.select(dead_letters.c.job_id).where(
            dead_letters.c.job_id.in_(chunk), dead_letters.c.replayed_at.is_(None)
        )
        found.update(conn.execute(query).scalars())
    return found


def dead_letter_json(row: sa.Row) -> dict[str, Any]:
    """``kind`` is the job's; ``delivery_kind`` (``task.dispatched``, ``case.urged``, …) and
    ``type`` (``webhook``, ``wecom``, …) say what a delivery job was sending, and how."""
    replayed_at = utc(row.replayed_at)
    payload = row.payload or {}
    delivery_kind = payload.get("delivery_kind")
    if delivery_kind is None and row.kind == "deliver_task":
        delivery_kind = "task.dispatched"  # dead letters written before deliveries had kinds
    return {
        "id": row.id,
        "kind": row.kind,
        "delivery_kind": delivery_kind,
        "type": payload.get("type"),
        "department": payload.get("department"),
        "job_id": row.job_id,
        "queue": row.queue,
        "payload": row.payload,
        "error": row.error,
        "created_at": utc(row.created_at).isoformat(),  # type: ignore[union-attr]
        "replayed_at": replayed_at.isoformat() if replayed_at else None,
        "replayed_by": row.replayed_by,
    }


def list_dead_letters(
    conn: Connection, *, state: str = "open", limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """``state``: ``open`` (not replayed yet), ``replayed`` or ``all``; newest first."""
    where = []
    if state == "open":
        where.append(dead_letters.c.replayed_at.is_(None))
    elif state == "replayed":
        where.append(dead_letters.c.replayed_at.is_not(None))
    total = conn.execute(sa.select(sa.func.count()).select_from(dead_letters).where(*where))
    rows = conn.execute(
        sa.select(dead_letters)
        .where(*where)
        .order_by(dead_letters.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dead_letter_json(row) for row in rows], int(total.scalar() or 0)


def get_dead_letter(conn: Connection, letter_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(dead_letters).where(dead_letters.c.id == letter_id)).first()
    return None if row is None else dead_letter_json(row)


def mark_replayed(conn: Connection, letter_id: int, *, by: str, now: datetime) -> bool:
    """Close an open dead letter and reset its task's delivery; False if already replayed."""
    row = conn.execute(sa.select(dead_letters).where(dead_letters.c.id == letter_id)).first()
    if row is None or row.replayed_at is not None:
        return False
    closed = conn.execute(
        dead_letters.update()
        .where(dead_letters.c.id == letter_id, dead_letters.c.replayed_at.is_(None))
        .values(replayed_at=now, replayed_by=by)
    )
    if closed.rowcount != 1:
        return False
    task_id = (row.payload or {}).get("task_id")
    if task_id:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.task_id == task_id, deliveries.c.state != DELIVERED)
            .values(state=PENDING, attempts=0, last_error=None, lease_until=None, updated_at=now)
        )
    return True


def reopen_dead_letter(conn: Connection, letter_id: int, *, now: datetime) -> None:
    """Undo ``mark_replayed`` when the job could not be enqueued after all."""
    row = conn.execute(sa.select(dead_letters).where(dead_letters.c.id == letter_id)).first()
    if row is None:
        return
    conn.execute(
        dead_letters.update()
        .where(dead_letters.c.id == letter_id)
        .values(replayed_at=None, replayed_by=None)
    )
    task_id = (row.payload or {}).get("task_id")
    if task_id:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.task_id == task_id, deliveries.c.state == PENDING)
            .values(state=FAILED, updated_at=now)
        )


def count_open_dead_letters(conn: Connection) -> int:
    query = sa.select(sa.func.count()).select_from(dead_letters)
    return int(conn.execute(query.where(dead_letters.c.replayed_at.is_(None))).scalar() or 0)


def record_gave_up(
    conn: Connection, *, task_id: str, department: str, error: str, now: datetime
) -> None:
    """A delivery job that failed outright (not a refused webhook): the delivery is failed."""
    row = _row(conn, task_id)
    if row is None:
        _insert(
            conn,
            task_id=task_id,
            case_id=case_id_of(task_id),
            department=department,
            channel="unknown",
            state=FAILED,
            attempts=1,
            last_error=error[:2000],
            updated_at=now,
        )
    elif row.state != DELIVERED:
        conn.execute(
            deliveries.update()
            .where(deliveries.c.task_id == task_id)
            .values(state=FAILED, last_error=error[:2000], lease_until=None, updated_at=now)
        )
