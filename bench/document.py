"""``docs/benchmarks.md``: the machine, the one table, the details — and the lead's notes.

Everything from the line ``NOTES`` on is hand-written and kept as it is when the file is
rewritten. A file without that line was not written by ``dispatch bench``: its text is kept
below a new one, so that nothing written by hand is lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.details import details
from bench.figures import Figure, markdown_table

NOTES = "<!-- notes: kept by dispatch bench -->"


def kept_notes(existing: str | None) -> str:
    """The notes section of the file as it stands: from the ``NOTES`` line to the end."""
    if not existing:
        return NOTES + "\n"
    lines = existing.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip() == NOTES:
            return "".join(lines[index:])
    return NOTES + "\n\n" + existing


def machine_lines(machine: dict[str, Any]) -> list[str]:
    return [
        f"- CPU: {machine['cpu']} × {machine['cpus']}",
        f"- RAM: {machine['memory_gb']} GB",
        f"- {machine['os']}; Python {machine['python']}; PostgreSQL {machine['postgresql']}; "
        f"Redis {machine['redis']}",
        f"- load average at the start: {', '.join(map(str, machine['load_average_at_start']))}"
        " (the machine may be shared: a busy neighbour slows ours and the baseline alike)",
    ]


def render(
    machine: dict[str, Any],
    sizes: str,
    figures: list[Figure],
    results: dict[str, dict[str, Any]],
) -> str:
    """The generated part of the file (everything above the notes)."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `dispatch bench` on {machine['date']} at commit {machine['commit']}; "
        f"{sizes}. Each figure of what ships stands beside a raw baseline of the same work "
        "measured in the same run; the ratio is ours ÷ raw.",
        "",
        "## Machine",
        "",
        *machine_lines(machine),
        "",
        "## Figures",
        "",
        markdown_table(figures),
        "",
        "## Details",
        *details(results),
    ]
    return "\n".join(lines)


def write(path: Path, generated: str) -> None:
    """Rewrite ``path`` with ``generated`` above the notes the file already holds."""
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generated.rstrip() + "\n\n" + kept_notes(existing), encoding="utf-8")
