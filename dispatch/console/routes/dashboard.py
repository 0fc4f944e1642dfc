"""督办: 三率 and score per department, the monthly ranking, the daily trend, overdue alerts
with urge/supervise buttons, and the ledger export."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.console.charts import rate_chart, trend_chart
from dispatch.console.grid_panel import grid_panel
from dispatch.console.web import container_of, finish, render, require
from dispatch.queries.alerts import overdue_alerts
from dispatch.queries.kpi_settings import zone_and_weights
from dispatch.queries.kpis import kpi_rows, month_bounds, ranking
from dispatch.queries.ledger import LedgerFilter
from dispatch.queries.ledger_files import ledger_download

router = APIRouter()

Reader = Depends(require("supervisor", "dispatcher"))
Supervisor = Depends(require("supervisor"))
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TREND_DAYS = 30


@router.get("/dashboard")
def dashboard(
    request: Request, month: str = "", measure: str = "", user: User = Reader
) -> Response:
    container = container_of(request)
    zone, weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    now = container.clock()
    local_now = now.astimezone(zone)
    month = month if MONTH.match(month) else local_now.strftime("%Y-%m")
    start, end = month_bounds(month, str(zone))
    today = datetime(local_now.year, local_now.month, local_now.day, tzinfo=zone)
    trend_start = today - timedelta(days=TREND_DAYS - 1)
    container.fresh("kpi")
    with container.store.reading() as conn:
        rows = kpi_rows(
            conn,
            group_by="department",
            start=start,
            end=end,
            now=now,
            weights=weights,
            timezone=str(zone),
        )
        ranked = ranking(conn, month, now, weights=weights, timezone=str(zone))
        days = kpi_rows(
            conn,
            group_by="day",
            start=trend_start,
            end=today + timedelta(days=1),
            now=now,
            weights=weights,
            timezone=str(zone),
        )
        alerts = overdue_alerts(conn, user, now=now, limit=50)
    context: dict[str, Any] = {
        "month": month,
        "previous_month": _shift(month, -1),
        "next_month": _shift(month, 1),
        "rows": rows,
        "chart": rate_chart(rows),
        "ranking": ranked,
        "trend": trend_chart(_every_day(days, trend_start, TREND_DAYS)),
        "alerts": alerts,
        "may_export": user.has("supervisor"),
        "weights": weights,
        "grid_map": grid_panel(request, user, measure),
    }
    return render(request, "dashboard.html", context)


def _shift(month: str, by: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _every_day(rows: list[dict[str, Any]], first: datetime, count: int) -> list[dict[str, Any]]:
    """One row per day of the trend, an empty one where nothing happened."""
    by_day = {str(row["key"]): row for row in rows}
    filled = []
    for offset in range(count):
        day = (first + timedelta(days=offset)).date().isoformat()
        filled.append(by_day.get(day, {"key": day, "counts": {}, "closure_rate": None}))
    return filled


@router.get("/exports/cases.xlsx")
def export_xlsx(request: Request, user: User = Supervisor) -> Response:
    """The ledger (台账), as the API's export has it: phones masked."""
    return finish(request, _ledger(container_of(request), "xlsx"))


@router.get("/exports/cases.csv")
def export_csv(request: Request, user: User = Supervisor) -> Response:
    return finish(request, _ledger(container_of(request), "csv"))


def _ledger(container: Container, kind: Literal["csv", "xlsx"]) -> Response:
    zone, _weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    return ledger_download(
        container.engine,
        kind,
        now=container.clock(),
        active=container.catalogue_source(),
        timezone=zone,
        filters=LedgerFilter(),
    )
