"""What each part's results say, as rows of the one table (issue 18's list, in its order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.figures import Figure, Target

Results = dict[str, dict[str, Any]]

APPEND_RATIO = Target("ratio", "≥", 0.5)
INTAKE_RATIO = Target("ratio", "≥", 0.5)
INBOX_P99 = Target("ours", "≤", 1000, "ms")
CPU_PER_COMPLAINT = Target("ours", "≤", 9, "ms")
REBUILD_RATE = Target("ours", "≥", 20_000, "events/s")
REBUILD_RSS_GROWTH = Target("ratio", "≤", 1.1)  # second half's peak ÷ first half's: flat
KPI_MS, AS_OF_MS, PAGE_MS = 100.0, 300.0, 50.0


def kpi_target_ms(key: str) -> float | None:
    """The bar for one of ``bench.kpi_query.measure``'s timings, by its key: worklist and
    case-list pages 50 ms, ``as_of`` 300 ms, every ``group_by`` 100 ms; through HTTP the same
    bar as the query; the overdue alerts have none."""
    key = key.removeprefix("http_")
    if key.startswith(("worklist", "case_list")):
        return PAGE_MS
    if "as_of" in key:
        return AS_OF_MS
    if key.startswith("overdue"):
        return None
    return KPI_MS


def kpi_label(key: str) -> str:
    words = key.replace("_", " ")
    if key.removeprefix("http_").startswith(("worklist", "case_list")):
        return f"{words} p95"
    return f"KPI {words} p95"


def append(result: dict[str, Any], _all: Results) -> list[Figure]:
    return [
        Figure(
            f"event append, {result['writers']} writers",
            "events/s",
            result["store_events_per_s"],
            result["raw_events_per_s"],
            APPEND_RATIO,
        )
    ]


def intake(result: dict[str, Any], _all: Results) -> list[Figure]:
    ours, raw = result["ours"], result["raw"]
    capped = [side for side, r in (("ours", ours), ("raw", raw)) if r["capped"]]
    return [
        Figure(
            "intake capacity at p99 ≤ 50 ms, worker + scheduler running",
            "req/s",
            ours["capacity_per_s"],
            raw["capacity_per_s"],
            INTAKE_RATIO,
            note=f"{' and '.join(capped)} passed every step" if capped else "",
        ),
        *(
            [
                Figure(
                    "intake capacity, same, with 2 API processes",
                    "req/s",
                    result["ours_2_apis"]["capacity_per_s"],
                    raw["capacity_per_s"],
                    None,
                )
            ]
            if "ours_2_apis" in result
            else []
        ),
    ]


def inbox(result: dict[str, Any], _all: Results) -> list[Figure]:
    ours, raw = result["inbox_latency_s"], result["raw_hop_baseline"]["latency_s"]
    lost = result["missing_after_30s_drain"] + result["errors"]
    rate = f"{result['rate']:g}/s"

    def ms(value: float | None) -> float | None:
        return None if value is None else value * 1000

    cpu = result["cpu"]["cpu_ms_per_item"]["total"]
    raw_cpu = result["raw_hop_baseline"]["cpu"]["cpu_ms_per_item"]["total"]
    return [
        Figure(f"complaint → inbox p50 at {rate}", "ms", ms(ours["p50"]), ms(raw["p50"])),
        Figure(
            f"complaint → inbox p99 at {rate}",
            "ms",
            ms(ours["p99"]),
            ms(raw["p99"]),
            INBOX_P99,
            note=f"{lost} refused or never in an inbox" if lost else "",
            fails=bool(lost),
        ),
        Figure("CPU per complaint, all processes", "ms", cpu, raw_cpu, CPU_PER_COMPLAINT),
    ]


def rebuild(result: dict[str, Any], _all: Results) -> list[Figure]:
    return [
        Figure(
            f"projection rebuild ({result['projection']})",
            "events/s",
            result["rebuild_events_per_s"],
            result["raw_scan_events_per_s"],
            REBUILD_RATE,
        ),
        Figure(
            "rebuild RSS, 2nd half's peak vs 1st half's",
            "MB",
            result.get("rss_second_half_mb"),
            result.get("rss_first_half_mb"),
            REBUILD_RSS_GROWTH,
        ),
    ]


def kpi(result: dict[str, Any], _all: Results) -> list[Figure]:
    figures = []
    for key, timing in result.items():
        if isinstance(timing, dict) and "p95_ms" in timing:
            bar = kpi_target_ms(key)
            target = Target("ours", "≤", bar, "ms") if bar is not None else None
            figures.append(Figure(kpi_label(key), "ms", timing["p95_ms"], None, target))
        elif isinstance(timing, dict) and "error" in timing:
            figures.append(Figure(kpi_label(key), "ms", None, note=str(timing["error"])[:60]))
    return figures


def peak_rss(results: Results) -> list[Figure]:
    """API, worker and scheduler in the pipeline run (the API beside the minimal endpoint in
    the intake run), and the rebuild's process."""
    figures = []
    inbox_rss = results.get("inbox", {}).get("cpu", {}).get("peak_rss_mb", {})
    minimal = results.get("intake", {}).get("raw", {}).get("peak_rss_mb", {}).get("minimal api")
    for role in ("api", "worker", "scheduler"):
        if role in inbox_rss:
            raw = minimal if role == "api" else None
            figures.append(Figure(f"peak RSS {role}", "MB", inbox_rss[role], raw))
    if "max_rss_mb" in results.get("rebuild", {}):
        figures.append(Figure("peak RSS rebuild", "MB", results["rebuild"]["max_rss_mb"]))
    return figures


PARTS: dict[str, Callable[[dict[str, Any], Results], list[Figure]]] = {
    "append": append,
    "intake": intake,
    "inbox": inbox,
    "rebuild": rebuild,
    "kpi": kpi,
}


def scorecard(results: Results) -> list[Figure]:
    """Every part's rows in order; a part that failed is one failing row saying why."""
    figures: list[Figure] = []
    for name, read in PARTS.items():
        if name not in results:
            continue
        result = results[name]
        if "error" in result:
            reason = str(result["error"]).splitlines()[0][:100]
            figures.append(Figure(f"{name}: failed", "", None, note=reason, fails=True))
        else:
            figures += read(result, results)
    return figures + peak_rss({k: v for k, v in results.items() if "error" not in v})
