"""Tamper evidence: walk every stream's hash chain, and check the log against its seals.

A changed byte breaks the chain of its stream at that event. A stream deleted behind the
triggers' back, or an event rewritten together with every later hash of its stream, leaves
the chains intact; the seals (``events.seals``) catch those: ``verify`` recomputes the
cumulative hash as it walks and compares it with every seal in the database, checks their
signatures when given the key, and, given a seal exported earlier, proves the log still
extends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.hashing import GENESIS, event_hash, seal_hash
from events.schema import events
from events.seals import Seal, SealBroken, all_seals, seal_log
from events.store import as_utc

__all__ = ["Seal", "SealBroken", "VerifyReport", "seal_log", "verify_log"]


@dataclass
class VerifyReport:
    events_checked: int = 0
    seals_checked: int = 0
    problems: list[str] = field(default_factory=list)
    # What the exported seal (``against``) showed: None when none was given or it matched.
    exported_problem: str | None = None
    exported_matched: bool = False
    signed_seals: int = 0  # whose signature was checked and matched
    unsigned_seals: int = 0
    unchecked_signatures: int = 0  # signed seals, but no key to check them with

    @property
    def ok(self) -> bool:
        return not self.problems and self.exported_problem is None


def verify_log(
    engine: Engine,
    *,
    key: str | None = None,
    against: Seal | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Check every event's hash and link (stopping at the first bad event), every seal of
    the database (and its signature, given the ``key``), and the exported seal ``against``."""
    report = VerifyReport()
    heads: dict[str, tuple[int, str]] = {}
    pending = [(seal, False) for seal in all_seals(engine)]
    if against is not None:
        pending.append((against, True))
    # The exported seal before a database seal at the same position: it is the stronger word.
    pending.sort(key=lambda item: (item[0].position, not item[1]))
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
            while next_seal < len(pending) and pending[next_seal][0].position <= row.position:
                seal, exported = pending[next_seal]
                _check(seal, exported, report, key, cumulative, row.position, report.events_checked)
                next_seal += 1
            if progress is not None and report.events_checked % 10000 == 0:
                progress(report.events_checked)
    for seal, exported in pending[next_seal:]:
        _check(seal, exported, report, key, cumulative, None, report.events_checked)
    return report


def _check(
    seal: Seal,
    exported: bool,
    report: VerifyReport,
    key: str | None,
    cumulative: str,
    at: int | None,
    count: int,
) -> None:
    matches = at == seal.position and seal.cumulative_hash == cumulative
    matches = matches and seal.event_count == count
    if exported:
        _check_exported(seal, report, key, matches)
        return
    report.seals_checked += 1
    name = f"seal #{seal.id} at position {seal.position} ({seal.event_count} events)"
    if not matches:
        report.problems.append(
            f"{name} does not match the log: events were removed or rewritten up to that position"
        )
    if seal.hmac is None:
        report.unsigned_seals += 1
        if key is not None and report.signed_seals:
            report.problems.append(
                f"{name} is unsigned although earlier seals are signed: the seals table was "
                "rewritten"
            )
    elif key is None:
        report.unchecked_signatures += 1
    elif seal.signed_with(key):
        report.signed_seals += 1
    else:
        report.problems.append(
            f"{name} does not carry DISPATCH_SEAL_KEY's signature: the seals table was "
            "rewritten (or the key is not the one that signed it)"
        )


def _check_exported(seal: Seal, report: VerifyReport, key: str | None, matches: bool) -> None:
    where = f"the exported seal at position {seal.position} ({seal.event_count} events)"
    if key is not None and seal.hmac is not None and not seal.signed_with(key):
        report.exported_problem = (
            f"{where} does not carry DISPATCH_SEAL_KEY's signature: the file was altered, "
            "or the key is not the one that signed it"
        )
    elif not matches:
        report.exported_problem = (
            f"{where} does not match the log: events up to that position were removed or "
            "rewritten since it was exported"
        )
    else:
        report.exported_matched = True
