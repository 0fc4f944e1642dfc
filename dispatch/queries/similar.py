"""相似工单 at intake: the open cases that are likely the same problem, and the caller's
earlier cases, so the operator can merge or answer instead of filing a duplicate.

Two reasons an item is listed: ``same_place`` — the same category, open, in the same grid (or
within a few hundred metres) and recent (``worklists.likely_duplicates``); ``same_caller`` —
the caller's phone is the reporter's of an earlier case (the vault's blind index, never a scan
of the reporters). A case listed for both says so in ``reasons``. Phone numbers are masked
in every item, whoever asks: the list is shown on a shared intake screen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from dispatch.queries.masking import mask_phones
from dispatch.queries.reporters import cases_by_phone
from dispatch.queries.scope import Viewer
from dispatch.queries.worklists import likely_duplicates

SAME_PLACE = "same_place"
SAME_CALLER = "same_caller"
PLACE_LIMIT = 10
CALLER_LIMIT = 20


def similar_cases(
    conn: Connection,
    viewer: Viewer,
    *,
    now: datetime,
    key: bytes,
    category: str | None = None,
    grid: str | None = None,
    point: tuple[float, float] | None = None,
    q: str | None = None,
    phone: str | None = None,
) -> list[dict[str, Any]]:
    """Same-place cases (nearest or newest first), then the caller's other cases (newest
    first); each case once. ``key`` is the phone index's (``Settings.phone_index_key``)."""
    found: dict[str, dict[str, Any]] = {}
    if category is not None and (grid is not None or point is not None):
        for item in likely_duplicates(
            conn, viewer, category=category, now=now, grid=grid, point=point, q=q,
            limit=PLACE_LIMIT,
        ):  # fmt: skip
            _add(found, item, SAME_PLACE)
    if phone:
        for item in cases_by_phone(conn, viewer, phone, key=key, q=q, limit=CALLER_LIMIT):
            _add(found, item, SAME_CALLER)
    return [_shown(item) for item in found.values()]


def _add(found: dict[str, dict[str, Any]], item: dict[str, Any], reason: str) -> None:
    if item["id"] in found:
        found[item["id"]]["reasons"].append(reason)
        return
    found[item["id"]] = {**item, "reason": reason, "reasons": [reason]}


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    """The fields the intake screen needs, numbers in the text masked."""
    location = item["location"]
    return {
        "id": item["id"],
        "case_no": item["case_no"],
        "reason": item["reason"],
        "reasons": item["reasons"],
        "category": item["category"],
        "status": item["status"],
        "received_at": item["received_at"],
        "channel": item["channel"],
        "description": mask_phones(item["description"]),
        "address": mask_phones(location["address"]),
        "location": {**location, "address": mask_phones(location["address"])},
        "lead_department": item["lead_department"],
    }
