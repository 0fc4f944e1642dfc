"""KPI rows and the monthly ranking (红黑榜), summed set-based in SQL; rates from
``dispatch.domain.kpi_formulas``.

The common question — a whole number of local days, as things stand now — is answered from the
daily rollup ``kpi_daily``: a sum over a few thousand rows, however many cases the period
holds, corrected for the deadlines still ahead of ``now`` from the few open task rows whose
``settle_at`` lies in the future (see ``dispatch.projections.kpi_rollup``). Anything else — an
``as_of`` time, or a period that starts or ends inside a day — is counted from the facts
themselves (``dispatch.queries.kpi_exact``), exact and slower. Both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.domain.kpi_formulas import DEFAULT_WEIGHTS, KpiCounts, KpiWeights, kpi_row
from dispatch.projections.kpi import KPI_TIMEZONE
from dispatch.projections.kpi_tables import COUNTS, define_kpi_tables
from dispatch.queries.kpi_exact import fact_queries, without_jit

GroupBy = Literal["department", "nature", "category", "grid", "street", "day"]
GROUPS: tuple[str, ...] = ("department", "nature", "category", "grid", "street", "day")
# (the step's done column, its deadline, the count it is due for)
STEPS = (
    ("signed_at", "sign_by", "due_sign"),
    ("contacted_at", "contact_by", "due_contact"),
    ("replied_at", "reply_by", "due_reply"),
)

_tables = define_kpi_tables(sa.MetaData())
tasks, daily = _tables["tasks"], _tables["daily"]


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, e.g. 2026-11-01T00:00:00+08:00")
    return moment.astimezone(UTC)


def _whole_day(moment: datetime, zone: ZoneInfo) -> date | None:
    """The local date if ``moment`` is a local midnight, else ``None``."""
    local = moment.astimezone(zone)
    return local.date() if local.time() == time(0) else None


def _rollup_query(
    group_by: str, first: date, after: date, start: datetime, end: datetime, now: datetime
) -> sa.Select[Any]:
    """Per key: the days' rollup rows minus the steps they count as due whose deadline is
    still ahead of ``now``, summed in one statement; keys left with no task and no case out.

    Summing in SQL hands back one row per key (a month by grid: 300 rows, not the 9,000 day
    rows); the rollup's index carries every count, so the days are read from it alone.
    """
    # A day's totals are the sum of its street rows (see ``kpi_rollup.DIMENSIONS``).
    dimension, key = ("street", daily.c.day) if group_by == "day" else (group_by, daily.c.key)
    days = sa.select(key.label("key"), *(daily.c[name] for name in COUNTS)).where(
        daily.c.dimension == dimension, daily.c.day >= first, daily.c.day < after
    )
    both = sa.union_all(days, _not_yet_due_query(group_by, start, end, now)).subquery("both")
    sums = [sa.func.sum(both.c[name]).label(name) for name in COUNTS]
    return (
        sa.select(both.c.key, *sums)
        .group_by(both.c.key)
        .having(sa.or_(sa.func.sum(both.c.dispatched) != 0, sa.func.sum(both.c.received) != 0))
    )


def _not_yet_due_query(
    group_by: str, start: datetime, end: datetime, now: datetime
) -> sa.Select[Any]:
    """Per key, minus the steps the rollup counts as due whose deadline is still ahead of
    ``now``, in the rollup's columns (every other count 0)."""
    t = tasks.c
    # The rollup keeps an unknown grid or street as "": the same key here.
    key = t.dispatched_day if group_by == "day" else sa.func.coalesce(t[group_by], "")

    def ahead(done: str, deadline: str) -> Any:
        return sa.and_(
            t[done].is_(None),
            t[deadline] > now,
            sa.or_(t.returned_at.is_(None), t[deadline] <= t.returned_at),
            sa.or_(t.cancelled_at.is_(None), t[deadline] <= t.cancelled_at),
        )

    subtracted = {
        due: -sa.func.sum(sa.case((ahead(done, deadline), 1), else_=0))
        for done, deadline, due in STEPS
    }
    columns = [subtracted.get(name, sa.literal(0)).label(name) for name in COUNTS]
    return (
        sa.select(key.label("key"), *columns)
        .where(
            t.settle_at > now,
            t.case_parked.is_(False),  # the rollup counted nothing due for a parked case
            t.dispatched_at >= start,
            t.dispatched_at < end,
            t.excluded_at.is_(None),
        )
        .group_by(key)
    )


def _key_text(key: object) -> object:
    if isinstance(key, date):
        return key.isoformat()
    return key or None  # the rollup keeps an unknown grid or street as ""


def _merge(rows: Iterable[Any], totals: dict[object, dict[str, int]]) -> None:
    for row in rows:
        merged = totals.setdefault(_key_text(row["key"]), dict.fromkeys(COUNTS, 0))
        for name, value in row.items():
            if name != "key":
                merged[name] += int(value or 0)


def kpi_rows(
    conn: Connection,
    *,
    group_by: GroupBy,
    start: datetime,
    end: datetime,
    now: datetime,
    as_of: datetime | None = None,
    weights: KpiWeights = DEFAULT_WEIGHTS,
    timezone: str | None = None,
    exact: bool = False,
) -> list[dict[str, Any]]:
    """KPI rows of the period ``[start, end)``, one per key, ordered by key (unknown last).

    A period from midnight to midnight of the KPI projection's days (``KPI_TIMEZONE``) is
    answered from the daily rollup, unless ``exact`` asks for the facts; any other period
    (e.g. month bounds in another ``timezone`` the caller reasons in) from the facts.
    """
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}, not {group_by!r}")
    start, end, now = _utc(start, "start"), _utc(end, "end"), _utc(now, "now")
    as_of = _utc(as_of, "as_of") if as_of is not None else None
    _ = timezone  # the rollup's days are the projection's, whatever zone the caller uses
    zone = ZoneInfo(KPI_TIMEZONE)
    first, after = _whole_day(start, zone), _whole_day(end, zone)
    if as_of is None and first is not None and after is not None and not exact:
        query = _rollup_query(group_by, first, after, start, end, now)
        rows = conn.execute(query)  # key, then the counts in ``KpiCounts`` order
        counted = [(_key_text(key), KpiCounts(*map(int, counts))) for key, *counts in rows]
    else:
        totals: dict[object, dict[str, int]] = {}
        with without_jit(conn):
            for query in fact_queries(group_by, start, end, as_of or now, as_of):
                _merge(conn.execute(query).mappings(), totals)
        counted = [(key, KpiCounts.of(values)) for key, values in totals.items()]
    counted.sort(key=lambda item: (item[0] is None, str(item[0])))
    return [kpi_row(key, counts, weights) for key, counts in counted]


def month_bounds(month: str, timezone: str = KPI_TIMEZONE) -> tuple[datetime, datetime]:
    """``"2026-11"`` → the first instants of that month and the next, in ``timezone``."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise ValueError(f"month must look like 2026-11, not {month!r}") from None
    following = date(year + number // 12, number % 12 + 1, 1)
    zone = ZoneInfo(timezone)

    def instant(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=zone)

    return instant(first), instant(following)


def ranking(
    conn: Connection,
    month: str,
    now: datetime,
    *,
    weights: KpiWeights = DEFAULT_WEIGHTS,
    timezone: str = KPI_TIMEZONE,
    size: int = 5,
    as_of: datetime | None = None,
    min_due: int = 0,
    period: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    """红黑榜: departments of ``month`` ranked by score; top and bottom ``size`` (no overlap).
    With ``as_of``, on the events recorded before it (counted from the facts, not the rollup).

    Departments without a score (no rate could be computed) are listed in ``rows`` unranked;
    so are those with fewer than ``min_due`` tasks due for signing (样本不足), marked
    ``too_few``: one task signed in time would otherwise top the board with 100.
    ``period`` (start, end) replaces the month's bounds for a chosen range.
    """
    start, end = period or month_bounds(month, timezone)
    rows = kpi_rows(
        conn, group_by="department", start=start, end=end, now=now, weights=weights, as_of=as_of
    )
    for row in rows:
        row["too_few"] = row["counts"].get("due_sign", 0) < min_due
    scored = sorted(
        (row for row in rows if row["score"] is not None and not row["too_few"]),
        key=lambda row: (-row["score"], str(row["key"])),
    )
    for rank, row in enumerate(scored, start=1):
        row["rank"] = rank
    unranked = [dict(row, rank=None) for row in rows if row.get("rank") is None]
    top = scored[:size]
    bottom = list(reversed(scored[size:]))[:size]
    return {
        "month": month,
        "min_due": min_due,
        "top": top,
        "bottom": bottom,
        "rows": scored + unranked,
    }
