"""What each part's results become in the table, and the bars each row is held to."""

from __future__ import annotations

from typing import Any

from bench.scorecard import kpi_label, kpi_target_ms, scorecard


def test_each_query_has_the_bar_the_issue_sets() -> None:
    assert kpi_target_ms("department") == 100
    assert kpi_target_ms("grid") == 100
    assert kpi_target_ms("nature") == 100  # a group_by added later
    assert kpi_target_ms("department_as_of") == 300
    assert kpi_target_ms("grid_as_of") == 300
    assert kpi_target_ms("worklist_sign_page20") == 50
    assert kpi_target_ms("case_list_search") == 50
    assert kpi_target_ms("http_department") == 100
    assert kpi_target_ms("http_worklist_sign") == 50
    assert kpi_target_ms("overdue_alerts") is None


def test_queries_are_labelled_by_their_keys() -> None:
    assert kpi_label("grid_as_of") == "KPI grid as of p95"
    assert kpi_label("worklist_sign_page20") == "worklist sign page20 p95"


def timing(p95: float) -> dict[str, float]:
    return {"runs": 10, "p50_ms": p95 / 2, "p95_ms": p95, "max_ms": p95 * 2}


def latency(p50: float, p99: float) -> dict[str, float]:
    return {"p50": p50, "p90": p99, "p99": p99, "max": p99, "mean": p50}


def cpu(total: float, rss: dict[str, float] | None = None) -> dict[str, Any]:
    return {"cpu_ms_per_item": {"total": total}, "peak_rss_mb": rss or {}, "notes": []}


RESULTS: dict[str, dict[str, Any]] = {
    "append": {"error": "Traceback (most recent call last):\nRuntimeError: boom"},
    "inbox": {
        "rate": 100.0,
        "errors": 0,
        "missing_after_30s_drain": 2,
        "inbox_latency_s": latency(0.2, 0.8),
        "raw_hop_baseline": {"latency_s": latency(0.008, 0.016), "cpu": cpu(2.5)},
        "cpu": cpu(11.6, {"api": 160.0, "worker": 154.0, "scheduler": 161.0}),
    },
    "kpi": {
        "events": 180_000,
        "month": "2026-10",
        "department": timing(40),
        "grid_as_of": timing(320),
        "http_department": {"error": "KeyError: 'access_token'"},
        "target_met": True,
    },
}


def test_every_part_gives_its_rows_in_the_issues_order() -> None:
    rows = {figure.name: figure for figure in scorecard(RESULTS)}
    assert list(rows) == [
        "append: failed",
        "complaint → inbox p50 at 100/s",
        "complaint → inbox p99 at 100/s",
        "CPU per complaint, all processes",
        "KPI department p95",
        "KPI grid as of p95",
        "KPI http department p95",
        "peak RSS api",
        "peak RSS worker",
        "peak RSS scheduler",
    ]
    assert rows["append: failed"].met is False
    assert rows["append: failed"].note == "Traceback (most recent call last):"
    assert rows["KPI department p95"].met is True
    assert rows["KPI grid as of p95"].met is False
    assert rows["CPU per complaint, all processes"].met is False
    assert rows["CPU per complaint, all processes"].raw == 2.5


def test_cases_that_never_reached_an_inbox_fail_the_latency_row() -> None:
    p99 = next(f for f in scorecard(RESULTS) if f.name.startswith("complaint → inbox p99"))
    assert p99.ours == 800 and p99.raw == 16
    assert p99.met is False and "2 refused or never in an inbox" in p99.note


def test_the_apis_memory_stands_beside_the_minimal_endpoints() -> None:
    results = RESULTS | {
        "intake": {
            "ours": {"capacity_per_s": 150, "capped": False, "peak_rss_mb": {}},
            "raw": {"capacity_per_s": 500, "capped": True, "peak_rss_mb": {"minimal api": 80.0}},
        }
    }
    rows = {figure.name: figure for figure in scorecard(results)}
    capacity = rows["intake capacity at p99 ≤ 50 ms, worker + scheduler running"]
    assert capacity.ratio == 0.3 and capacity.met is False
    assert capacity.note == "raw passed every step"
    assert rows["peak RSS api"].raw == 80.0
