"""Per-part details for ``docs/benchmarks.md``: what lies behind each row of the table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bench.figures import number
from bench.scorecard import kpi_target_ms


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    def cell(value: object) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return number(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    return lines + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def rounds_of(rates: list[float]) -> str:
    return ", ".join(number(rate) for rate in rates)


def append(result: dict[str, Any]) -> list[str]:
    rounds = f"{result['rounds']} × {result['seconds_per_phase']:g} s per side"
    return [
        f"{result['writers']} writer processes, one event per transaction, {rounds}, raw and "
        f"store phases alternating. Raw: a single-row INSERT into a table shaped like `events`.",
        "",
        *table(
            ["side", "events/s", "per round"],
            [
                ["raw INSERT", result["raw_events_per_s"], rounds_of(result["raw_per_round"])],
                [
                    "EventStore.append",
                    result["store_events_per_s"],
                    rounds_of(result["store_per_round"]),
                ],
            ],
        ),
    ]


def intake(result: dict[str, Any]) -> list[str]:
    lines = [
        f"Open-loop steps of {result['step_seconds']:g} s; a step passes with p99 ≤ 50 ms "
        "(from the moment each request was due) and no error.",
    ]
    for side, title in (("raw", "minimal FastAPI + INSERT"), ("ours", "dispatch serve")):
        steps = result[side]["steps"]
        rows = [
            [s["rate"], s["offered"], s["answered"], s["errors"], ms(s["p50_s"]), ms(s["p99_s"]),
             "yes" if s["passed"] else "no"]
            for s in steps
        ]  # fmt: skip
        rss = ", ".join(f"{k} {v} MB" for k, v in result[side]["peak_rss_mb"].items())
        lines += ["", f"**{title}**: {result[side]['capacity_per_s']:g} req/s; peak RSS {rss}", ""]
        lines += table(["rate/s", "offered", "2xx", "errors", "p50 ms", "p99 ms", "pass"], rows)
    return lines


def inbox(result: dict[str, Any]) -> list[str]:
    raw = result["raw_hop_baseline"]
    header = ["", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    rows = [
        [label, *(ms(row[q]) for q in ("p50", "p90", "p99", "max"))]
        for label, row in (
            ("accepted → inbox", result["inbox_latency_s"]),
            ("intake (201)", result["intake_latency_s"]),
            ("raw hop", raw["latency_s"]),
        )
    ]
    ours_cpu, raw_cpu = result["cpu"], raw["cpu"]
    groups = list(dict.fromkeys([*ours_cpu["cpu_ms_per_item"], *raw_cpu["cpu_ms_per_item"]]))
    groups = [g for g in groups if g != "total"] + ["total"]
    cpu_rows = [
        [g, ours_cpu["cpu_ms_per_item"].get(g), raw_cpu["cpu_ms_per_item"].get(g)] for g in groups
    ]
    peaks = ", ".join(f"{k} {v}" for k, v in result["backlog_peaks"].items()) or "none"
    rss = ", ".join(f"{k} {v} MB" for k, v in result["cpu"]["peak_rss_mb"].items())
    notes = [f"- {note}" for note in dict.fromkeys([*ours_cpu["notes"], *raw_cpu["notes"]])]
    return [
        f"{result['rate']:g} complaints/s for {result['seconds']:g} s, {result['workers']} "
        f"worker(s): {result['accepted']} accepted, {result['errors']} errors, "
        f"{result['missing_after_30s_drain']} never reached an inbox. The raw hop (commit → "
        f"RPUSH → BLPOP → commit) ran at the same rate for {raw['seconds']:g} s.",
        "",
        *table(header, rows),
        "",
        f"CPU milliseconds per complaint offered, steady window ({ours_cpu['window_s']:g} s, "
        f"{ours_cpu['items']} complaints offered, {ours_cpu.get('accepted_in_window', '—')} "
        f"accepted; raw hop {raw_cpu['window_s']:g} s, {raw_cpu['items']} items). Total = "
        "every group but the load client.",
        "",
        *table(["process group", "ours", "raw hop"], cpu_rows),
        *(["", *notes] if notes else []),
        "",
        f"Peak RSS during the run: {rss}. Backlog peaks (events or jobs): {peaks}.",
    ]


def rebuild(result: dict[str, Any]) -> list[str]:
    return [
        f"`{result['projection']}` rebuilt from position 0 over {result['events']:,} events "
        f"in {result['rebuild_seconds']:g} s, in a process of its own.",
        "",
        *table(
            ["reading", "events/s"],
            [
                ["raw scan (keyset batches, tuples)", result["raw_scan_events_per_s"]],
                ["store scan (EventStore.iter_all)", result["store_scan_events_per_s"]],
                ["rebuild", result["rebuild_events_per_s"]],
            ],
        ),
        "",
        f"Resident memory: peak {result['max_rss_mb']} MB; during the rebuild "
        f"{result.get('rss_first_half_mb', '—')} MB at most in its first half, "
        f"{result.get('rss_second_half_mb', '—')} MB in its second.",
    ]


def kpi(result: dict[str, Any]) -> list[str]:
    counts = ", ".join(
        f"{result[k]:,} {k}" for k in ("events", "cases", "tasks") if isinstance(result.get(k), int)
    )
    rows = [
        [key, t.get("runs"), t["p50_ms"], t["p95_ms"], t["max_ms"], kpi_target_ms(key)]
        for key, t in result.items()
        if isinstance(t, dict) and "p95_ms" in t
    ]
    return [
        f"Month {result.get('month', '—')} over {counts}.",
        "",
        *table(["query", "runs", "p50 ms", "p95 ms", "max ms", "target p95 ms"], rows),
    ]


PARTS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "append": ("Event append", append),
    "intake": ("Intake capacity", intake),
    "inbox": ("Complaint → department inbox, CPU and memory", inbox),
    "rebuild": ("Projection rebuild", rebuild),
    "kpi": ("KPI, worklist and case-list queries", kpi),
}


def details(results: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for name, (title, describe) in PARTS.items():
        if name not in results:
            continue
        lines += ["", f"### {title}", ""]
        result = results[name]
        if "error" in result:
            lines += ["The part failed:", "", "```", str(result["error"]).rstrip(), "```"]
        else:
            lines += describe(result)
    return lines
