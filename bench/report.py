"""Collect the JSON figures the benchmarks wrote into one table (``make bench``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def flatten(prefix: str, value: object, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}" if prefix else str(key), inner, rows)
    elif isinstance(value, float):
        rows.append((prefix, f"{value:,.3f}"))
    else:
        rows.append((prefix, str(value)))


def main(folder: str) -> None:
    rows: list[tuple[str, str]] = []
    for path in sorted(Path(folder).glob("*.json")):
        flatten(path.stem, json.loads(path.read_text()), rows)
    width = max((len(name) for name, _ in rows), default=10)
    lines = [f"{'figure'.ljust(width)}  value", f"{'-' * width}  -----"]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    table = "\n".join(lines)
    (Path(folder) / "TABLE.txt").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results")
