"""The query parameters every list shares: ``page``, ``page_size`` and the search ``q``.

A page holds at most ``MAX_PAGE_SIZE`` items and ``q`` is at least two characters (one
character matches nearly every case and cannot use the trigram index): asking for more is a
422 that names the parameter, never a silently shortened answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from dispatch.queries.tasks import MAX_PAGE_SIZE

Page = Annotated[int, Query(ge=1, le=100_000, description="1 for the first page")]
PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page, 1 to {MAX_PAGE_SIZE}")
]
SearchText = Annotated[
    str | None,
    Query(min_length=2, max_length=200, description="words of the case number, address or text"),
]
