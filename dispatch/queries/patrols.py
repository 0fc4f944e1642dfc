"""巡查 reads (DESIGN §8.7): a day's rounds per grid, the 漏巡 worklist, and patrol coverage.

Everything comes from the ``patrol_reports`` projection laid over the catalogue's grids and
rounds: a round with no row was neither reported nor raised as missed. ``missing`` is judged
at ``now`` (past its ``by`` without a report), so it shows before the timer scan has run.

Who sees what: a grid worker its own grid, a street officer its street's grids, everyone else
allowed on the route every grid. Asking for a grid or street outside that is refused
(``NotYourPatrols``) rather than answered empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.catalogue import Catalogue, Grid, PatrolRound
from dispatch.projections.case_list import live_tables as case_tables
from dispatch.projections.patrol_reports import live_tables
from dispatch.queries.scope import Viewer, grid_of, roles_of
from events import as_utc

WIDE_ROLES = frozenset({"supervisor", "dispatcher", "admin", "operator"})
MISSED_LIST_DAYS = 7  # the 漏巡 worklist looks back a week unless asked for other dates


class NotYourPatrols(PermissionError):
    """The viewer asked for a grid or street outside its own."""


@dataclass(frozen=True)
class Due:
    grid: Grid
    date: date
    round: PatrolRound
    due_at: datetime


def grids_in_scope(
    catalogue: Catalogue, viewer: Viewer, *, street: str | None = None, grid: str | None = None
) -> list[Grid]:
    """The grids the viewer may see, narrowed by ``street`` and ``grid``."""
    roles = roles_of(viewer)
    allowed = list(catalogue.grids)
    if not roles & WIDE_ROLES:
        own_grid, own_street = grid_of(viewer), viewer.street if "street" in roles else None
        allowed = [
            g
            for g in allowed
            if ("grid" in roles and g.code == own_grid) or (own_street and g.street == own_street)
        ]
        if (grid and grid not in {g.code for g in allowed}) or (
            street and street not in {g.street for g in allowed}
        ):
            raise NotYourPatrols("you see the patrols of your own grid or street only")
    return [
        g
        for g in allowed
        if (street is None or g.street == street) and (grid is None or g.code == grid)
    ]


def rounds_due(catalogue: Catalogue, grids: Iterable[Grid], days: Iterable[date]) -> list[Due]:
    zone = catalogue.zone
    return [
        Due(g, day, r, r.due_at(day, zone))
        for day in days
        for g in grids
        for r in catalogue.patrol.rounds
    ]


def day_rounds(
    conn: Connection,
    catalogue: Catalogue,
    viewer: Viewer,
    day: date,
    now: datetime,
    *,
    street: str | None = None,
    grid: str | None = None,
) -> list[dict[str, Any]]:
    """``GET /patrols``: one item per grid in scope and round of ``day``."""
    grids = grids_in_scope(catalogue, viewer, street=street, grid=grid)
    rows = _rows(conn, [g.code for g in grids], day, day)
    numbers = _case_numbers(conn, [c for row in rows.values() for c in row["findings"]])
    return [
        _item(due, rows.get((due.grid.code, day, due.round.name)), numbers, now)
        for due in rounds_due(catalogue, grids, [day])
    ]


def missed_rounds(
    conn: Connection,
    viewer: Viewer,
    today: date,
    *,
    street: str | None = None,
    grid: str | None = None,
    first: date | None = None,
    last: date | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """漏巡 (the ``patrol_missed`` worklist): rounds raised as missed and still unreported,
    the latest first, a week back unless ``first``/``last`` say otherwise; and their total."""
    table = live_tables()["patrol_reports"]
    conditions = [
        table.c.missed.is_(True),
        table.c.reported.is_(False),
        table.c.date.between(first or today - timedelta(days=MISSED_LIST_DAYS - 1), last or today),
        *_row_scope(table, viewer),
    ]
    if street is not None:
        conditions.append(table.c.street == street)
    if grid is not None:
        conditions.append(table.c.grid == grid)
    query = sa.select(table).where(*conditions).order_by(table.c.due_at.desc(), table.c.grid)
    total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*conditions))
    items = [
        {
            "grid": row.grid,
            "street": row.street,
            "date": row.date.isoformat(),
            "round": row.round,
            "due_at": as_utc(row.due_at).isoformat(),
            "missing": True,
        }
        for row in conn.execute(query.limit(limit).offset(offset))
    ]
    return items, total.scalar_one()


def _row_scope(table: sa.Table, viewer: Viewer) -> list[Any]:
    """A street officer's or grid worker's own rows; the centre's roles see every row."""
    roles = roles_of(viewer)
    if roles & WIDE_ROLES:
        return []
    allowed = []
    if "street" in roles and viewer.street:
        allowed.append(table.c.street == viewer.street)
    if "grid" in roles and grid_of(viewer):
        allowed.append(table.c.grid == grid_of(viewer))
    return [sa.or_(*allowed) if allowed else sa.false()]


def coverage(
    conn: Connection,
    catalogue: Catalogue,
    viewer: Viewer,
    first: date,
    last: date,
    now: datetime,
    *,
    group_by: str = "grid",
) -> list[dict[str, Any]]:
    """巡查覆盖率 per grid or street: rounds reported / rounds due (``by`` passed) in the period.

    A round counts as due once its ``by`` time has passed; as reported if a report exists
    (a late one included: ``late`` counts those reported after ``by``). The current
    catalogue's grids and rounds stand for the whole period.
    """
    grids = grids_in_scope(catalogue, viewer)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    rows = _rows(conn, [g.code for g in grids], first, last)
    totals: dict[str, dict[str, int]] = {}
    for due in rounds_due(catalogue, grids, days):
        if due.due_at > now:
            continue
        key = due.grid.code if group_by == "grid" else due.grid.street
        count = totals.setdefault(key, {"due": 0, "reported": 0, "zero": 0, "late": 0})
        count["due"] += 1
        row = rows.get((due.grid.code, due.date, due.round.name))
        if row is not None and row["reported"]:
            count["reported"] += 1
            count["zero"] += bool(row["zero"])
            count["late"] += as_utc(row["reported_at"]) > due.due_at
    keys = [g.code for g in grids] if group_by == "grid" else sorted({g.street for g in grids})
    return [_coverage_row(key, totals.get(key)) for key in dict.fromkeys(keys)]


def _coverage_row(key: str, count: dict[str, int] | None) -> dict[str, Any]:
    count = count or {"due": 0, "reported": 0, "zero": 0, "late": 0}
    due, reported = count["due"], count["reported"]
    return {
        "key": key,
        **count,
        "missed": due - reported,
        "coverage_rate": reported / due if due else None,
    }


def _rows(
    conn: Connection, grids: list[str], first: date, last: date
) -> dict[tuple[str, date, str], dict[str, Any]]:
    if not grids:
        return {}
    table = live_tables()["patrol_reports"]
    query = sa.select(table).where(table.c.grid.in_(grids), table.c.date.between(first, last))
    return {
        (row["grid"], row["date"], row["round"]): dict(row)
        for row in conn.execute(query).mappings()
    }


def _case_numbers(conn: Connection, case_ids: list[str]) -> dict[str, str]:
    if not case_ids:
        return {}
    cases = case_tables()["case_list"]
    query = sa.select(cases.c.id, cases.c.case_no).where(cases.c.id.in_(case_ids))
    return {row.id: row.case_no for row in conn.execute(query)}


def _item(
    due: Due, row: dict[str, Any] | None, numbers: dict[str, str], now: datetime
) -> dict[str, Any]:
    reported = bool(row and row["reported"])
    reported_at = as_utc(row["reported_at"]) if row and row["reported_at"] else None
    return {
        "grid": due.grid.code,
        "grid_name": due.grid.name,
        "street": due.grid.street,
        "date": due.date.isoformat(),
        "round": due.round.name,
        "due_at": due.due_at.isoformat(),
        "reported": reported,
        "zero": bool(row and row["zero"]) if reported else False,
        "findings": [numbers.get(c, c) for c in row["findings"]] if row and reported else [],
        "note": row["note"] if row and reported else None,
        "reported_at": reported_at.isoformat() if reported_at else None,
        "reported_by": row["reported_by"] if row and reported else None,
        "late": bool(reported_at and reported_at > due.due_at),
        "missing": not reported and now >= due.due_at,
    }


def settled_rounds(
    conn: Connection, grids: list[str], first: date, last: date
) -> set[tuple[str, date, str]]:
    """(grid, day, round) already reported or raised as missed: the timer scan skips them."""
    return {
        key
        for key, row in _rows(conn, grids, first, last).items()
        if row["reported"] or row["missed"]
    }
