"""督办: 三率 and score per department, the ranking (departments with too few due tasks shown
as 样本不足, not ranked), the daily trend, overdue alerts (paged, with urge/supervise buttons),
and the ledger export — all for the period and filters chosen on the page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from dispatch.auth.users import User
from dispatch.console.charts import rate_chart, trend_chart
from dispatch.console.grid_panel import grid_panel
from dispatch.console.periods import chosen_filters, chosen_period, query_string, shift_month
from dispatch.console.web import PREFIX, container_of, finish, names, render, require
from dispatch.queries.alerts import count_overdue_alerts, overdue_alerts
from dispatch.queries.kpi_settings import zone_and_weights
from dispatch.queries.kpis import kpi_rows, ranking
from dispatch.queries.ledger import LedgerFilter
from dispatch.queries.ledger_files import ledger_download

router = APIRouter()

Reader = Depends(require("supervisor", "dispatcher"))
Supervisor = Depends(require("supervisor"))
TREND_DAYS = 30
ALERTS_PAGE = 50


@router.get("/dashboard")
def dashboard(
    request: Request,
    month: str = "",
    from_: str = Query("", alias="from", max_length=10),
    to: str = Query("", max_length=10),
    department: str = "",
    street: str = "",
    category: str = "",
    alerts_page: int = 1,
    measure: str = "",
    user: User = Reader,
) -> Response:
    container = container_of(request)
    zone, weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    now = container.clock()
    local_now = now.astimezone(zone)
    period = chosen_period(now, zone, month=month[:7], first=from_, last=to)
    filters = chosen_filters(
        names(request), department=department, street=street, category=category
    )
    alerts_page = min(max(alerts_page, 1), 10_000)
    today = datetime(local_now.year, local_now.month, local_now.day, tzinfo=zone)
    trend_start = today - timedelta(days=TREND_DAYS - 1)
    min_due = container.settings.ranking_min_due
    container.fresh("kpi")
    with container.store.reading() as conn:
        rows = kpi_rows(
            conn,
            group_by="department",
            start=period.start,
            end=period.end,
            now=now,
            weights=weights,
            timezone=str(zone),
        )
        ranked = ranking(
            conn,
            period.month or "",
            now,
            weights=weights,
            timezone=str(zone),
            min_due=min_due,
            period=(period.start, period.end),
        )
        days = kpi_rows(
            conn,
            group_by="day",
            start=trend_start,
            end=today + timedelta(days=1),
            now=now,
            weights=weights,
            timezone=str(zone),
        )
    too_few = {row["key"] for row in ranked["rows"] if row.get("too_few")}
    keep = query_string(period, filters)
    context: dict[str, Any] = {
        "period": period,
        "filters": filters,
        "keep": keep,
        "back": f"{request.url.path}?{query_string(period, filters, alerts_page=alerts_page)}",
        "months": [
            (f"?{query_string(chosen_period(now, zone, month=shifted), filters)}", shifted)
            for shifted in (shift_month(period.first_day.strftime("%Y-%m"), by) for by in (-1, 1))
        ],
        "rows": rows,
        "too_few": too_few,
        "min_due": min_due,
        "chart": rate_chart(rows),
        "ranking": ranked,
        "trend": trend_chart(_every_day(days, trend_start, TREND_DAYS)),
        "may_export": user.has("supervisor"),
        "weights": weights,
        "grid_map": grid_panel(request, user, measure),
    }
    context |= _alerts(request, user, filters.department, alerts_page)
    context["live_alerts"] = _alerts_url(context["back"])
    return render(request, "dashboard.html", context)


@router.get("/dashboard/alerts")
def dashboard_alerts(
    request: Request,
    month: str = "",
    from_: str = Query("", alias="from", max_length=10),
    to: str = Query("", max_length=10),
    department: str = "",
    street: str = "",
    category: str = "",
    alerts_page: int = 1,
    user: User = Reader,
) -> Response:
    """The alerts card alone, for the page's script to swap in when the live stream says a
    worklist or an alert changed (§8.8): the dashboard updates without a reload."""
    container = container_of(request)
    zone, _weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    period = chosen_period(container.clock(), zone, month=month[:7], first=from_, last=to)
    filters = chosen_filters(
        names(request), department=department, street=street, category=category
    )
    alerts_page = min(max(alerts_page, 1), 10_000)
    keep = query_string(period, filters)
    back = f"{PREFIX}/dashboard?{query_string(period, filters, alerts_page=alerts_page)}"
    context = {"keep": keep, "back": back, "live_alerts": _alerts_url(back)}
    context |= _alerts(request, user, filters.department, alerts_page)
    return render(request, "dashboard_alerts.html", context, fragment=True)


def _alerts_url(back: str) -> str:
    """Where the page's script fetches the alerts card again, with the page's own query."""
    return f"{PREFIX}/dashboard/alerts?{back.split('?', 1)[1]}"


def _alerts(request: Request, user: User, department: str | None, page: int) -> dict[str, Any]:
    container = container_of(request)
    now = container.clock()
    container.fresh("kpi")  # the alerts are computed from the KPI task facts
    with container.store.reading() as conn:
        alerts = overdue_alerts(
            conn,
            user,
            now=now,
            department=department,
            limit=ALERTS_PAGE,
            offset=(page - 1) * ALERTS_PAGE,
        )
        total = count_overdue_alerts(conn, user, now=now, department=department)
    return {
        "alerts": alerts,
        "alerts_total": total,
        "alerts_page": page,
        "alerts_pages": max(1, -(-total // ALERTS_PAGE)),
    }


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
    """The ledger (台账), as the API's export has it (phones masked), for the dashboard's
    period and filters: the same query string the page was opened with."""
    return finish(request, _ledger(request, "xlsx"))


@router.get("/exports/cases.csv")
def export_csv(request: Request, user: User = Supervisor) -> Response:
    return finish(request, _ledger(request, "csv"))


def _ledger(request: Request, kind: Literal["csv", "xlsx"]) -> Response:
    container = container_of(request)
    zone, _weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    now = container.clock()
    asked = request.query_params
    period = chosen_period(
        now,
        zone,
        month=asked.get("month", "")[:7],
        first=asked.get("from", "")[:10],
        last=asked.get("to", "")[:10],
    )
    filters = chosen_filters(
        names(request),
        department=asked.get("department", "")[:64],
        street=asked.get("street", "")[:64],
        category=asked.get("category", "")[:64],
    )
    return ledger_download(
        container.engine,
        kind,
        now=now,
        active=container.catalogue_source(),
        timezone=zone,
        filters=LedgerFilter(
            start=period.start,
            end=period.end,
            department=filters.department,
            street=filters.street,
            category=filters.category,
        ),
    )
