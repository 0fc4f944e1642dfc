"""The time zone and KPI weights every report is computed with: the active catalogue's, or
the deployment's time zone and the default weights before a catalogue is loaded."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dispatch.catalogue import Catalogue
from dispatch.domain.kpi_formulas import KpiWeights, weights_from_catalogue


def zone_and_weights(
    active: tuple[int, Catalogue] | None, default_timezone: str
) -> tuple[ZoneInfo, KpiWeights]:
    catalogue = active[1] if active else None
    timezone = catalogue.timezone if catalogue else default_timezone
    return ZoneInfo(timezone), weights_from_catalogue(catalogue)
