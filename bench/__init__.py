"""Benchmarks: each figure of what ships beside a raw baseline of the same work, same run.

``dispatch bench`` runs them all (``bench.suite``); each module also runs alone as
``python -m bench.<name>``.
"""

import sys
from pathlib import Path

# bench/kpi_query.py (kept on another branch) still imports its sibling by plain name
# (``from kpi_cases import …``); this finds it. Drop once it says ``from bench.kpi_cases``.
if str(Path(__file__).parent) not in sys.path:
    sys.path.append(str(Path(__file__).parent))
