"""The figures of the one table: ours, the raw baseline, their ratio, the target, met or not.

The ratio is always ours ÷ raw: above 1 for a throughput means faster than the baseline, for
a latency or a cost it means slower. A target applies either to our figure (p99 ≤ 1 s) or to
the ratio (append ≥ 0.5 × raw INSERT); a figure without one is reported, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Target:
    on: Literal["ours", "ratio"]
    bound: Literal["≥", "≤"]
    value: float
    unit: str = ""

    def describe(self) -> str:
        amount = number(self.value)
        if self.on == "ratio":
            return f"ratio {self.bound} {self.value:g}"
        return f"{self.bound} {amount} {self.unit}".rstrip()

    def met(self, ours: float | None, ratio: float | None) -> bool | None:
        """None when the figure it judges is missing (no baseline, a failed part)."""
        value = ours if self.on == "ours" else ratio
        if value is None:
            return None
        return value >= self.value if self.bound == "≥" else value <= self.value


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    ours: float | None
    raw: float | None = None
    target: Target | None = None
    note: str = ""  # said beside the figure: "capped by the client", "error: …"
    fails: bool = False  # failed whatever the numbers say (cases lost, a part that crashed)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.raw:
            return None
        return self.ours / self.raw

    @property
    def met(self) -> bool | None:
        if self.fails:
            return False
        return None if self.target is None else self.target.met(self.ours, self.ratio)


def number(value: float) -> str:
    """Three significant figures or so, thousands separated."""
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def amount(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{number(value)} {unit}".rstrip()


def row(figure: Figure) -> list[str]:
    """figure · ours · raw baseline · ratio · target · met?"""
    ratio = figure.ratio
    met = {True: "yes", False: "NO", None: "—"}[figure.met]
    name = f"{figure.name} ({figure.note})" if figure.note else figure.name
    return [
        name,
        amount(figure.ours, figure.unit),
        amount(figure.raw, figure.unit),
        "—" if ratio is None else f"{ratio:.2f}" if ratio < 10 else number(ratio),
        "—" if figure.target is None else figure.target.describe(),
        met,
    ]


HEADER = ["figure", "ours", "raw baseline", "ratio", "target", "met?"]


def text_table(figures: list[Figure]) -> str:
    """The one table for a terminal: columns aligned, numbers to the right."""
    rows = [HEADER, *(row(f) for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:])])


def markdown_table(figures: list[Figure]) -> str:
    rows = [row(f) for f in figures]
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|---|" + "---:|" * (len(HEADER) - 2) + ":---:|",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
    return "\n".join(lines)
