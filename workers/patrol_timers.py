"""漏巡: the timer scan raises ``PatrolReportMissed`` for each grid's round whose ``by`` time has
passed without a report, once.

Looks back ``LOOKBACK_DAYS`` local days, so a scheduler that was down for a few days still finds
the rounds missed meanwhile, but never before the first catalogue was loaded (a new centre's
grids did not miss the rounds of the days before it existed). The ``patrol_reports``
projection spares asking about rounds already settled; the handler decides on the stream
itself (``expected_version``, a command id fixed by grid, day and round), so two schedulers, or
one restarted, raise each miss once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatch.bootstrap import Container
from dispatch.catalogue.versions import list_versions
from dispatch.handlers.patrols import patrol_missed_raised
from dispatch.queries.patrols import rounds_due
from dispatch.queries.patrols import settled_rounds as settled
from events.database import read_only_connection

LOOKBACK_DAYS = 3


def raise_missed_patrols(container: Container, now: datetime | None = None) -> int:
    """How many rounds were raised as missed by this scan."""
    active = container.handling.catalogue_source()
    if active is None or not active[1].patrol.rounds:
        return 0
    catalogue = active[1]
    now = now or container.clock()
    since = _first_loaded(container) or now
    today = now.astimezone(catalogue.zone).date()
    first = max(today - timedelta(days=LOOKBACK_DAYS), since.astimezone(catalogue.zone).date())
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    due = [d for d in rounds_due(catalogue, catalogue.grids, days) if since <= d.due_at <= now]
    if not due:
        return 0
    container.fresh("patrol_reports")
    with read_only_connection(container.engine) as conn:
        done = settled(conn, [g.code for g in catalogue.grids], first, today)
    return sum(
        patrol_missed_raised(container.handling, d.grid, d.date, d.round, d.due_at)
        for d in due
        if (d.grid.code, d.date, d.round.name) not in done
    )


def _first_loaded(container: Container) -> datetime | None:
    versions = list_versions(container.engine)
    return min(v.loaded_at for v in versions) if versions else None


__all__ = ["LOOKBACK_DAYS", "raise_missed_patrols"]
