"""The case list and one case, from the ``case_list`` projection tables.

Nothing here folds a stream: every read is a query on rows the projector keeps current.
``q`` matches case number, address and description; a reporter's phone is never searchable
here (it is not in these tables), only through the personal-data vault.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables
from dispatch.projections.case_list_indexes import in_play, inline
from dispatch.queries.masking import present_summary
from dispatch.queries.scope import Viewer, can_view_case, case_scope
from dispatch.queries.tasks import iso, page_bounds, tasks_of_case
from events.vault import load_personal_data

METRES_PER_DEGREE = 111_320.0
MAX_MERGE_HOPS = 20  # 并案 chains: a duplicate's target merged in turn, and so on

__all__ = [
    "can_view_case",
    "case_exists",
    "case_summary",
    "get_case",
    "list_cases",
    "unroutable_cases",
]


def case_summary(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A list item: the case without its tasks, warnings or reporter."""
    return {
        "id": row["id"],
        "case_no": row["case_no"],
        "status": row["status"],
        "version": row["version"],
        "channel": row["channel"],
        "nature": row["nature"],
        "category": row["category"],
        "urgency": row["urgency"],
        "description": row["description"],
        "location": {
            "address": row["address"],
            "lat": row["lat"],
            "lon": row["lon"],
            "grid": row["grid"],
            "street": row["street"],
        },
        "received_at": iso(row["received_at"]),
        "updated_at": iso(row["updated_at"]),
        "lead_department": row["lead_department"],
        "departments": [d for d in row["departments"].split(",") if d],
        "open_tasks": row["open_tasks"],
        "overdue": bool(row["overdue"]),  # late now
        "was_overdue": bool(row["was_overdue"]),  # ever late
        "warning_level": row["warning_level"],
        "hops": row["hops"],
        "reopen_count": row["reopen_count"],
        "urge_count": row["urge_count"],
        "unroutable": row["unroutable"],
        "answered_at": iso(row["answered_at"]),
        "parked_review_on": iso(row["parked_review_on"]),
        "park_review_due": bool(row["park_review_due"]),
        "merged_into": row["merged_into"],
        "closed_at": iso(row["closed_at"]),
        "callback": {"solved": row["callback_solved"], "satisfaction": row["callback_satisfaction"]}
        if row["callback_solved"] is not None
        else None,
    }


SEARCH_COUNT_CAP = 2_000  # a search's total is counted up to this, then "2000+"


def list_cases(
    conn: Connection,
    viewer: Viewer,
    *,
    status: str | Iterable[str] | None = None,
    nature: str | None = None,
    category: str | None = None,
    department: str | None = None,
    grid: str | None = None,
    street: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    near: tuple[float, float] | None = None,
    radius_m: float = 1000.0,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[dict[str, Any]], int]:
    """Cases the viewer may see, newest first (nearest first with ``near=(lat, lon)``);
    phone numbers in the text masked for all but the hotline staff.

    The total is every case the filters match; with ``q``, at most ``SEARCH_COUNT_CAP + 1``
    (show it through ``capped_total``). ``status`` takes one status, a comma-separated list or
    an iterable; ``category`` ending in
    ``*`` matches a prefix (``water.*``); ``department`` keeps cases where that department has
    an active task.
    """
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    conditions: list[Any] = []
    scope = case_scope(viewer, cases, tasks)
    if scope is not None:
        conditions.append(scope)
    wanted_statuses: list[str] = []
    if status is not None:
        wanted = status.split(",") if isinstance(status, str) else list(status)
        wanted_statuses = [s.strip() for s in wanted if s.strip()]
        conditions.append(cases.c.status.in_(wanted_statuses))
    if nature is not None:
        conditions.append(cases.c.nature.in_([n.strip() for n in nature.split(",") if n.strip()]))
    if category is not None:
        if category.endswith("*"):
            prefix = category.rstrip("*")
            conditions.append(cases.c.category.startswith(prefix, autoescape=True))
        else:
            conditions.append(cases.c.category == category)
    if department is not None:
        conditions.append(sa.exists().where(tasks.c.case_id == cases.c.id, *_works_on(department)))
    if grid is not None:
        conditions.append(cases.c.grid == grid)
    if street is not None:
        conditions.append(cases.c.street == street)
    if overdue is not None:
        conditions.append(cases.c.overdue.is_(overdue))
    if q:
        conditions.append(_contains(cases.c.search, q.strip().lower()))
    if near is not None:
        conditions.append(_near(cases, near, radius_m)[0])

    count = _count_query(tables, conditions, scope, status, wanted_statuses, department, q)
    total: int | None = None
    source: Any = cases
    query = sa.select(cases).where(*conditions)
    if q:
        # Counted first, for it says how to find the page: a text in few cases (an address,
        # a thousand of a million) is looked up through its trigram index and sorted after.
        # Planned as one query, PostgreSQL expects a match in every hundred cases and walks
        # them all newest first instead (52 ms against 12 at a million cases). A text in
        # many cases is met soon on that walk, which stays.
        total = int(conn.execute(count).scalar() or 0)
        if total <= SEARCH_COUNT_CAP:
            source = query.cte("matching").prefix_with("MATERIALIZED", dialect="postgresql")
            query = sa.select(source)
    limit, offset = page_bounds(page, page_size)
    query = query.order_by(*_newest_first(source, near, radius_m)).limit(limit).offset(offset)
    rows = conn.execute(query).mappings()
    items = [present_summary(case_summary(row), viewer) for row in rows]
    if total is None:
        total = int(conn.execute(count).scalar() or 0)
    return items, total


def _newest_first(source: Any, near: tuple[float, float] | None, radius_m: float) -> list[Any]:
    """The list's order: newest first, or nearest first around ``near``."""
    order: list[Any] = [source.c.received_at.desc(), source.c.id]
    if near is not None:
        order.insert(0, _near(source, near, radius_m)[1])
    return order


def _count_query(
    tables: Mapping[str, sa.Table],
    conditions: list[Any],
    scope: Any,
    status: Any,
    wanted_statuses: list[str],
    department: str | None,
    q: str | None,
) -> sa.Select[Any]:
    """The statement that counts the list's total (see ``list_cases``)."""
    cases = tables["case_list"]
    count = sa.select(sa.func.count()).select_from(cases).where(*conditions)
    if scope is None and len(conditions) == (0 if status is None else 1):
        # Every case, or every case in some statuses: the projection keeps those counts.
        counts = tables["case_counts"]
        count = sa.select(sa.func.coalesce(sa.func.sum(counts.c.cases), 0))
        if status is not None:
            count = count.where(counts.c.status.in_(wanted_statuses))
    elif department is not None and len(conditions) == 1:
        # A department's cases and nothing else: the projection keeps how many cases each
        # department has a task in play on (a busy department's 200,000 at a million cases,
        # 60 ms to count from their index on every page).
        counts = tables["case_department_counts"]
        count = sa.select(sa.func.coalesce(sa.func.sum(counts.c.cases), 0)).where(
            counts.c.department == department
        )
    elif q:
        # A word in many cases (two common characters: a seventh of a million cases) is not
        # counted to the end on every page: past SEARCH_COUNT_CAP the total says "more".
        matching = sa.select(sa.literal(1)).select_from(cases).where(*conditions)
        count = sa.select(sa.func.count()).select_from(
            matching.limit(SEARCH_COUNT_CAP + 1).subquery()
        )
    return count


def capped_total(total: int, q: str | None) -> tuple[int, bool]:
    """``list_cases``' total as shown, given the ``q`` it was called with:
    ``(SEARCH_COUNT_CAP, True)`` when a search matched more than that (the exact figure was
    not counted); any other list's total is exact."""
    if q and total > SEARCH_COUNT_CAP:
        return SEARCH_COUNT_CAP, True
    return total, False


def _contains(column: sa.ColumnElement[str], text: str) -> Any:
    """``column`` holds ``text`` (``LIKE '%text%'``, its ``%``, ``_`` and ``/`` escaped).

    The pattern is written into the statement, not sent as a parameter: planned for an
    unknown pattern (a cached plan), PostgreSQL expects the trigram index to narrow it down,
    and for a word of two characters, which has no trigram, the index hands back every case
    (a million rechecks); planned for the pattern, it scans when it must.
    """
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return column.like(inline(f"%{escaped}%"), escape="/")


def _works_on(department: str) -> list[Any]:
    """A task of ``department`` still in play (neither returned nor cancelled)."""
    tasks = live_tables()["case_tasks"]
    return [tasks.c.department == department, in_play(tasks)]


def _near(cases: sa.FromClause, point: tuple[float, float], radius_m: float) -> tuple[Any, Any]:
    """A bounding box (index-friendly, portable) and an equirectangular distance to sort by;
    at a city's scale the error of the flat approximation is far below a street's width."""
    lat, lon = point
    dlat = radius_m / METRES_PER_DEGREE
    scale = max(math.cos(math.radians(lat)), 1e-6)
    dlon = dlat / scale
    box = sa.and_(
        cases.c.lat.between(lat - dlat, lat + dlat), cases.c.lon.between(lon - dlon, lon + dlon)
    )
    dy = cases.c.lat - lat
    dx = (cases.c.lon - lon) * scale
    return box, dy * dy + dx * dx


def get_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    """DESIGN.md §4's case: the list item plus reporter, tasks and warnings.

    The reporter comes from the vault in full; callers show it through
    ``dispatch.queries.masking.present_case``, which masks the phone for most roles.
    """
    tables = live_tables()
    cases, warnings = tables["case_list"], tables["case_warnings"]
    row = conn.execute(sa.select(cases).where(cases.c.id == case_id)).mappings().first()
    if row is None:
        return None
    case = case_summary(row)
    case["reporter"] = _reporter(conn, row["reporter_ref"])
    case["callers"] = _callers(conn, tables["case_callers"], case_id)
    if row["merged_into"] is not None:
        case["callback_by_target"] = _target_callback(conn, cases, row["merged_into"])
    case["tasks"] = tasks_of_case(conn, case_id)
    query = sa.select(warnings).where(warnings.c.case_id == case_id)
    case["warnings"] = [
        {
            "task_id": w["task_id"],
            "department": w["department"],
            "stage": w["stage"],
            "level": w["level"],
            "deadline": iso(w["deadline"]),
            "raised_at": iso(w["raised_at"]),
        }
        for w in conn.execute(query.order_by(warnings.c.raised_at, warnings.c.task_id)).mappings()
    ]
    return case


def case_exists(conn: Connection, case_id: str) -> bool:
    cases = live_tables()["case_list"]
    return conn.execute(sa.select(cases.c.id).where(cases.c.id == case_id)).first() is not None


def _reporter(conn: Connection, ref: str | None) -> dict[str, Any]:
    """Name and phone from the vault; an erased or anonymous reporter gives nulls.
    ``confidential`` (保密) is kept with them: the caller asked that no department see the
    number."""
    data = load_personal_data(conn, [ref]).get(ref) if ref else None
    data = data or {}
    return {
        "name": data.get("name"),
        "phone": data.get("phone"),
        "confidential": bool(data.get("confidential", False)),
    }


def _callers(conn: Connection, callers: sa.Table, case_id: str) -> list[dict[str, Any]]:
    """并案: the duplicates merged into this case, earliest call first; its callback (回访)
    answers them all. A case merged here after taking callers of its own brings them along
    (C into A, then A into B: B lists A and C), so the chain is followed in one recursive
    query; ``UNION`` (not ``ALL``) would stop even a cycle, which merge rules forbid."""
    chain = sa.select(callers.c.case_id).where(callers.c.into == case_id).cte(recursive=True)
    chain = chain.union(sa.select(callers.c.case_id).where(callers.c.into == chain.c.case_id))
    query = (
        sa.select(callers.c.case_id, callers.c.case_no, callers.c.received_at, callers.c.channel)
        .where(callers.c.case_id.in_(sa.select(chain.c.case_id)))
        .order_by(callers.c.received_at, callers.c.case_no)
    )
    return [
        {
            "id": row.case_id,
            "case_no": row.case_no,
            "received_at": iso(row.received_at),
            "channel": row.channel,
        }
        for row in conn.execute(query)
    ]


def _target_callback(conn: Connection, cases: sa.Table, target_id: str) -> dict[str, Any]:
    """A merged duplicate is called back through the case it was merged into: that case's
    callback is this caller's answer too. If that case was merged in turn, the case at the
    end of the chain answers (a handful of hops at most; ``MAX_MERGE_HOPS`` bounds it)."""
    for _ in range(MAX_MERGE_HOPS):
        further = conn.execute(
            sa.select(cases.c.merged_into).where(cases.c.id == target_id)
        ).scalar()
        if further is None:
            break
        target_id = further
    target = (
        conn.execute(
            sa.select(
                cases.c.id,
                cases.c.case_no,
                cases.c.status,
                cases.c.callback_solved,
                cases.c.callback_satisfaction,
            ).where(cases.c.id == target_id)
        )
        .mappings()
        .first()
    )
    if target is None:
        return {"case_id": target_id, "case_no": None, "status": None, "callback": None}
    callback = (
        {"solved": target["callback_solved"], "satisfaction": target["callback_satisfaction"]}
        if target["callback_solved"] is not None
        else None
    )
    return {
        "case_id": target["id"],
        "case_no": target["case_no"],
        "status": target["status"],
        "callback": callback,
    }


def unroutable_cases(conn: Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    """The dispatchers' queue: received cases no rule could route and with no open task,
    oldest first."""
    cases = live_tables()["case_list"]
    query = (
        sa.select(cases)
        .where(
            cases.c.status == "received",
            cases.c.unroutable.is_not(None),
            cases.c.open_tasks == 0,
        )
        .order_by(cases.c.received_at, cases.c.id)
        .limit(limit)
    )
    return [case_summary(row) for row in conn.execute(query).mappings()]
