"""Per-stream hash chain: hash = sha256(prev_hash ‖ canonical JSON of the event)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(
    *,
    prev_hash: str,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    meta: dict[str, Any],
    recorded_at: datetime,
) -> str:
    body = {
        "stream_id": stream_id,
        "version": version,
        "type": type,
        "schema_version": schema_version,
        "data": data,
        "meta": meta,
        "recorded_at": timestamp_text(recorded_at),
    }
    return hashlib.sha256(prev_hash.encode() + canonical_json(body)).hexdigest()


def timestamp_text(moment: datetime) -> str:
    """Microsecond UTC text, so the hash does not depend on how a driver returns the time."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def seal_hash(prev_seal: str, event_hash_value: str) -> str:
    """Cumulative hash over the whole log in position order."""
    return hashlib.sha256((prev_seal + event_hash_value).encode()).hexdigest()
