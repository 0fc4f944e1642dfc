"""Tamper evidence: walk every stream's hash chain, and seal the log as a whole.

A changed byte breaks the chain of its stream at that event. A stream deleted behind the
triggers' back leaves every remaining chain intact, so the log is also sealed from time to
time: ``(position, event_count, cumulative_hash)`` over all events up to ``position``, kept
in ``seals``. ``verify`` recomputes the cumulative hash and compares it with every seal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.hashing import GENESIS, event_hash, seal_hash
from events.schema import events, seals
from events.store import as_utc, utcnow


@dataclass
class VerifyReport:
    events_checked: int = 0
    seals_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(engine: Engine, *, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check every event's hash and link; stop at the first bad event of each kind."""
    report = VerifyReport()
    heads: dict[str, tuple[int, str]] = {}
    seal_rows = _seals(engine)
    next_seal = 0
    cumulative = GENESIS
    with engine.connect().execution_options(read_only=True, stream_results=True) as conn:
        rows = conn.execute(sa.select(events).order_by(events.c.position)).yield_per(5000)
        for row in rows:
            report.events_checked += 1
            expected_version, prev_hash = heads.get(row.stream_id, (0, GENESIS))
            where = f"event position {row.position} (stream {row.stream_id} v{row.version})"
            if row.version != expected_version + 1 and not report.problems:
                report.problems.append(
                    f"{where}: version follows v{expected_version}; events are missing"
                )
            if row.prev_hash != prev_hash and not report.problems:
                report.problems.append(f"{where}: prev_hash does not match the previous event")
            digest = event_hash(
                prev_hash=row.prev_hash,
                stream_id=row.stream_id,
                version=row.version,
                type=row.type,
                schema_version=row.schema_version,
                data=row.data,
                meta=row.meta,
                recorded_at=as_utc(row.recorded_at),
            )
            if digest != row.hash and not report.problems:
                report.problems.append(f"{where}: hash does not match its content")
            heads[row.stream_id] = (row.version, row.hash)
            cumulative = seal_hash(cumulative, row.hash)
            while next_seal < len(seal_rows) and seal_rows[next_seal].position <= row.position:
                _check_seal(seal_rows[next_seal], report, cumulative, row.position)
                next_seal += 1
            if progress is not None and report.events_checked % 10000 == 0:
                progress(report.events_checked)
    for seal in seal_rows[next_seal:]:
        _check_seal(seal, report, cumulative, None)
    return report


def _check_seal(seal: sa.Row[Any], report: VerifyReport, cumulative: str, at: int | None) -> None:
    report.seals_checked += 1
    if at != seal.position or seal.cumulative_hash != cumulative:
        report.problems.append(
            f"seal #{seal.id} at position {seal.position} ({seal.event_count} events) does not "
            "match the log: events were removed or rewritten up to that position"
        )


def _seals(engine: Engine) -> list[sa.Row[Any]]:
    with engine.connect().execution_options(read_only=True) as conn:
        return list(conn.execute(sa.select(seals).order_by(seals.c.position)))


def seal_log(engine: Engine) -> int:
    """Record the cumulative hash of the log up to its head; returns the sealed position."""
    with engine.connect().execution_options(read_only=True) as conn:
        last = conn.execute(sa.select(seals).order_by(seals.c.position.desc()).limit(1)).first()
    cumulative, after, count = (
        (last.cumulative_hash, last.position, last.event_count) if last else (GENESIS, 0, 0)
    )
    position = after
    with engine.connect().execution_options(read_only=True, stream_results=True) as conn:
        query = (
            sa.select(events.c.position, events.c.hash)
            .where(events.c.position > after)
            .order_by(events.c.position)
        )
        for row in conn.execute(query).yield_per(5000):
            cumulative = seal_hash(cumulative, row.hash)
            position = row.position
            count += 1
    if position == after:
        return position
    with engine.begin() as conn:
        conn.execute(
            seals.insert().values(
                position=position, event_count=count, cumulative_hash=cumulative, sealed_at=utcnow()
            )
        )
    return position
