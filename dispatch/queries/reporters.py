"""Cases by the caller's phone number: found through the personal-data vault's blind index
(``events.vault.phone_index``), since phone numbers never sit in the case list (nor in the
events), and opening every reporter to compare numbers would not scale nor be private.

Only hotline staff may use it (``dispatch.queries.masking.sees_phone_numbers``); the number is
compared normalised (``+86``, spaces and dashes make no difference).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.projections.case_list import live_tables
from dispatch.queries.cases import case_summary
from dispatch.queries.scope import Viewer, case_scope
from events.vault import refs_with_phone

SEPARATORS = re.compile(r"[\s\-]")
PHONE_QUERY = re.compile(r"^\+?\d{5,20}$")


def looks_like_phone(text: str) -> bool:
    return PHONE_QUERY.match(SEPARATORS.sub("", text.strip())) is not None


def cases_by_phone(
    conn: Connection,
    viewer: Viewer,
    phone: str,
    *,
    key: bytes,
    q: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Cases whose reporter's phone is ``phone`` (and whose text holds ``q``), newest first,
    within the viewer's scope; ``key`` is the index's (``Settings.phone_index_key``).

    An erased reporter never matches.
    """
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    conditions: list[Any] = [cases.c.reporter_ref.in_(refs_with_phone(key, phone))]
    scope = case_scope(viewer, cases, tasks)
    if scope is not None:
        conditions.append(scope)
    if q:
        conditions.append(cases.c.search.contains(q.strip().lower(), autoescape=True))
    query = (
        sa.select(cases)
        .where(*conditions)
        .order_by(cases.c.received_at.desc(), cases.c.id)
        .limit(limit)
    )
    return [case_summary(row) for row in conn.execute(query).mappings()]
