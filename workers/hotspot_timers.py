"""主动治理 on the scheduler's timer: the scan itself lives in ``dispatch.ops.hotspot_scan``, so
the demo, which may not import ``workers``, raises its month's hotspots the same way."""

from __future__ import annotations

from dispatch.ops.hotspot_scan import raise_hotspots

__all__ = ["raise_hotspots"]
