"""主动治理 hotspots (DESIGN.md §8.7): repeated complaints of one category in one place.

One indexed ``GROUP BY`` on the case list (``grid``, ``received_at``) finds the (place,
category) pairs with at least ``min_cases`` cases received in the period; a second query
lists their case numbers. A place is a grid, or a grid's community (社区) from the catalogue.
Merged duplicates are left out: a duplicate is the same matter reported again, not another one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables
from dispatch.queries.scope import Viewer, is_scoped, roles_of
from dispatch.queries.tasks import iso

GroupBy = Literal["grid", "community"]
LEFT_OUT = ("merged",)


def hotspots(
    conn: Connection,
    viewer: Viewer,
    *,
    start: datetime,
    end: datetime,
    min_cases: int,
    group_by: GroupBy = "grid",
    communities: Mapping[str, str] | None = None,
    street: str | None = None,
) -> list[dict[str, Any]]:
    """``{grid, category, count, cases, first, last}`` per hotspot of ``[start, end)``, the
    biggest first. ``group_by="community"`` sums the grids of one community (``communities``:
    grid code → community; a grid without one stands alone) and adds ``community`` and
    ``grids``. A viewer who only holds the street role sees its own street's grids."""
    cases = live_tables()["case_list"]
    conditions = [
        cases.c.received_at >= start,
        cases.c.received_at < end,
        cases.c.grid.is_not(None),
        cases.c.status.not_in(LEFT_OUT),
    ]
    if is_scoped(viewer) and "street" in roles_of(viewer):
        conditions.append(cases.c.street == (viewer.street or ""))
    if street is not None:
        conditions.append(cases.c.street == street)
    places = dict(communities or {}) if group_by == "community" else {}
    place = sa.case(places, value=cases.c.grid, else_=cases.c.grid) if places else cases.c.grid
    counted = (
        sa.select(place.label("place"), cases.c.category)
        .where(*conditions)
        .group_by(place, cases.c.category)
        .having(sa.func.count() >= min_cases)
    )
    pairs = [(row.place, row.category) for row in conn.execute(counted)]
    if not pairs:
        return []
    rows = conn.execute(
        sa.select(place.label("place"), cases.c.grid, cases.c.category, cases.c.case_no)
        .add_columns(cases.c.received_at)
        .where(*conditions, sa.tuple_(place, cases.c.category).in_(pairs))
        .order_by(cases.c.received_at, cases.c.case_no)
    ).mappings()
    groups: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row["place"], row["category"]), []).append(row)
    items = [_item(key[0], key[1], found, group_by) for key, found in groups.items()]
    return sorted(items, key=lambda item: (-item["count"], item["grid"] or "", item["category"]))


def _item(
    place: str, category: str, found: list[Mapping[str, Any]], group_by: GroupBy
) -> dict[str, Any]:
    grids = sorted({row["grid"] for row in found})
    item: dict[str, Any] = {
        "grid": grids[0] if len(grids) == 1 else None,
        "category": category,
        "count": len(found),
        "cases": [row["case_no"] for row in found],
        "first": iso(found[0]["received_at"]),
        "last": iso(found[-1]["received_at"]),
    }
    if group_by == "community":
        item.update(community=place, grids=grids)
    return item
