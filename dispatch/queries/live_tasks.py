"""Which departments hold a live task on each case: a whistle never summons them again."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables
from dispatch.queries.tasks import OPEN_STATES


def live_departments(conn: Connection, case_ids: Iterable[str]) -> dict[str, set[str]]:
    """``{case id: {department codes with a task not yet replied, returned or cancelled}}``."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return {}
    tasks = live_tables()["case_tasks"]
    query = sa.select(tasks.c.case_id, tasks.c.department).where(
        tasks.c.case_id.in_(wanted), tasks.c.state.in_(OPEN_STATES)
    )
    found: dict[str, set[str]] = {case_id: set() for case_id in wanted}
    for row in conn.execute(query):
        found[row.case_id].add(row.department)
    return found
