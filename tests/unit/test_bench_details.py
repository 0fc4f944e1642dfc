"""Every part's details render from results shaped as the parts write them."""

from __future__ import annotations

from typing import Any

from bench.details import details
from bench.scorecard import scorecard


def latency(p50: float, p99: float) -> dict[str, float]:
    return {"p50": p50, "p90": p99, "p99": p99, "max": p99, "mean": p50}


def step(rate: float, p99: float) -> dict[str, Any]:
    offered = int(rate * 2)
    return {
        "rate": rate,
        "offered": offered,
        "answered": offered,
        "errors": 0,
        "p50_s": round(p99 / 3, 4),
        "p99_s": p99,
        "error_kinds": {},
        "passed": p99 <= 0.05,
    }


def cpu(groups: dict[str, float], rss: dict[str, float]) -> dict[str, Any]:
    counted = [g for g in groups if not g.startswith("load client")]
    total = sum(groups[g] for g in counted)
    return {
        "window_s": 6.0,
        "items": 600,
        "cpu_ms_per_item": {**groups, "total": total},
        "counted": counted,
        "peak_rss_mb": rss,
        "notes": ["redis-server is elsewhere"],
    }


RESULTS: dict[str, dict[str, Any]] = {
    "append": {"writers": 8, "seconds_per_phase": 2.0, "rounds": 1, "raw_events_per_s": 1428.0,
               "store_events_per_s": 731.0, "raw_per_round": [1428.0],
               "store_per_round": [731.0]},
    "intake": {
        "step_seconds": 2.0, "ratio": 0.25, "target_ratio": 0.5, "target_met": False,
        "ours": {"capacity_per_s": 100.0, "capped": False, "p99_limit_ms": 50.0,
                 "steps": [step(50, 0.02), step(100, 0.04), step(150, 0.3)],
                 "peak_rss_mb": {"api": 158.8, "scheduler": 156.5, "worker": 154.1}},
        "raw": {"capacity_per_s": 400.0, "capped": True, "p99_limit_ms": 50.0,
                "steps": [step(400, 0.02)], "peak_rss_mb": {"minimal api": 81.3}},
    },
    "inbox": {
        "rate": 100.0, "seconds": 10.0, "workers": 2, "accepted": 1000, "errors": 0,
        "missing_after_30s_drain": 0, "inbox_latency_s": latency(0.2, 0.6),
        "intake_latency_s": latency(0.02, 0.05), "backlog_peaks": {"queue routing": 44},
        "raw_hop_baseline": {"seconds": 5.0, "latency_s": latency(0.008, 0.03),
                             "cpu": cpu({"raw hop threads": 1.3, "redis": 0.2,
                                         "load client (not counted)": 0.9}, {})},
        "cpu": cpu({"api": 3.5, "scheduler": 2.4, "worker": 3.0, "redis": 0.4,
                    "load client (not counted)": 1.9},
                   {"api": 159.4, "scheduler": 159.8, "worker": 153.9})
        | {"accepted_in_window": 600},
    },
    "rebuild": {"projection": "kpi", "events": 168860, "raw_scan_events_per_s": 33654,
                "store_scan_events_per_s": 24513, "rebuild_events_per_s": 32581,
                "rebuild_seconds": 5.2, "max_rss_mb": 165, "rss_first_half_mb": 125.2,
                "rss_second_half_mb": 131.3},
    "kpi": {"events": 168860, "cases": 20000, "tasks": 24069, "month": "2026-10",
            "department": {"runs": 10, "p50_ms": 6.7, "p95_ms": 7.5, "max_ms": 7.6},
            "worklist_sign_page20": {"runs": 10, "p50_ms": 30.0, "p95_ms": 60.0, "max_ms": 70.0},
            "target_met": True},
}  # fmt: skip


def test_each_part_has_its_section_in_the_suites_order() -> None:
    text = "\n".join(details(RESULTS))
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert headings == [
        "### Event append",
        "### Intake capacity",
        "### Complaint → department inbox, CPU and memory",
        "### Projection rebuild",
        "### KPI, worklist and case-list queries",
    ]
    assert "| EventStore.append | 731 | 731 |" in text
    assert "**minimal FastAPI + INSERT**: 400 req/s; peak RSS minimal api 81.3 MB" in text
    assert "| 150 | 300 | 300 | 0 | 100 | 300 | no |" in text
    assert "| raw hop threads | — | 1.30 |" in text
    assert "| total | 9.30 | 1.50 |" in text
    assert text.count("- redis-server is elsewhere") == 1
    assert "| raw scan (keyset batches, tuples) | 33,654 |" in text
    assert "| worklist_sign_page20 | 10 | 30 | 60 | 70 | 50 |" in text


def test_the_table_has_every_issue_figure() -> None:
    names = [figure.name for figure in scorecard(RESULTS)]
    assert names == [
        "event append, 8 writers",
        "intake capacity at p99 ≤ 50 ms, worker + scheduler running",
        "complaint → inbox p50 at 100/s",
        "complaint → inbox p99 at 100/s",
        "CPU per complaint, all processes",
        "projection rebuild (kpi)",
        "rebuild RSS, 2nd half's peak vs 1st half's",
        "KPI department p95",
        "worklist sign page20 p95",
        "peak RSS api",
        "peak RSS worker",
        "peak RSS scheduler",
        "peak RSS rebuild",
    ]
