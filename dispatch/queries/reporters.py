"""Cases by the caller's phone number: the one search that must look into the personal-data
vault, since phone numbers never sit in the case list (nor in the events).

Only hotline staff may use it (``dispatch.queries.masking.sees_phone_numbers``); the match is
exact on the number as stored, after removing spaces and dashes from the query.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables
from dispatch.queries.cases import case_summary
from dispatch.queries.scope import Viewer, case_scope
from events import personal_data_table

SEPARATORS = re.compile(r"[\s\-]")
PHONE_QUERY = re.compile(r"^\+?\d{5,20}$")


def looks_like_phone(text: str) -> bool:
    return PHONE_QUERY.match(SEPARATORS.sub("", text.strip())) is not None


def cases_by_phone(
    conn: Connection, viewer: Viewer, phone: str, *, limit: int = 50
) -> list[dict[str, Any]]:
    """Cases whose reporter's stored phone is ``phone``, newest first, within the viewer's scope.

    An erased reporter (data NULL) never matches.
    """
    wanted = SEPARATORS.sub("", phone.strip())
    if not wanted:
        return []
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    stored = personal_data_table.c.data["phone"].as_string()
    refs = sa.select(personal_data_table.c.ref).where(
        sa.or_(stored == wanted, stored == phone.strip())
    )
    conditions: list[Any] = [cases.c.reporter_ref.in_(refs)]
    scope = case_scope(viewer, cases, tasks)
    if scope is not None:
        conditions.append(scope)
    query = (
        sa.select(cases)
        .where(*conditions)
        .order_by(cases.c.received_at.desc(), cases.c.id)
        .limit(limit)
    )
    return [case_summary(row) for row in conn.execute(query).mappings()]
