"""Benchmarks: each figure of what ships beside a raw baseline of the same work, same run.

``dispatch bench`` runs them all (``bench.suite``); each module also runs alone as
``python -m bench.<name>``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType


class _PlainNamedSibling(importlib.abc.MetaPathFinder):
    """``import kpi_cases`` finds ``bench/kpi_cases.py``: ``bench/kpi_query.py`` (kept on
    another branch) still imports its sibling by plain name. Drop this once it imports
    ``bench.kpi_cases``."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != "kpi_cases":
            return None
        return importlib.util.spec_from_file_location(name, Path(__file__).parent / "kpi_cases.py")


if not any(isinstance(finder, _PlainNamedSibling) for finder in sys.meta_path):
    sys.meta_path.append(_PlainNamedSibling())
