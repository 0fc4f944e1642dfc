"""Read models folded from the event log: case list, department inbox, KPIs, alerts, timeline."""

from __future__ import annotations

from dispatch.projections.base import Projection
from dispatch.projections.runner import ProjectionRunner


def default_projections() -> list[Projection]:
    """Every projection the service keeps; the runner, the API and the CLI all use this list."""
    from dispatch.projections.case_list import CaseListProjection
    from dispatch.projections.hotspots import HotspotsProjection
    from dispatch.projections.kpi import KpiProjection
    from dispatch.projections.patrol_reports import PatrolReportsProjection

    return [
        CaseListProjection(),
        KpiProjection(),
        PatrolReportsProjection(),
        HotspotsProjection(),
    ]


__all__ = ["Projection", "ProjectionRunner", "default_projections"]
