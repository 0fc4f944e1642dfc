"""Case numbers for case ids: people read 20261103-00012, never a 32-hex id."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables


def case_numbers(conn: Connection, case_ids: Iterable[str | None]) -> dict[str, str]:
    """``{case id: case number}`` for the ids that name a case."""
    wanted = sorted({case_id for case_id in case_ids if case_id})
    if not wanted:
        return {}
    cases = live_tables()["case_list"]
    query = sa.select(cases.c.id, cases.c.case_no).where(cases.c.id.in_(wanted))
    return {row.id: row.case_no for row in conn.execute(query)}
