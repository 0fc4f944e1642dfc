"""Worklists (工作台, DESIGN.md §8.1): each role's queues, with counts, most urgent first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query

from dispatch.api.deps import ContainerDep, CurrentUser
from dispatch.api.paging import Page, PageSize
from dispatch.api.problems import Problem
from dispatch.api.routes.stats import parse_moment, zone_and_weights
from dispatch.bootstrap import Container
from dispatch.queries.worklist_items import Filters, Moment, worklist_counts, worklist_page
from dispatch.queries.worklist_keys import NotYourWorklist, UnknownWorklist, visible_worklists

router = APIRouter(tags=["worklists"])

Code = Annotated[str | None, Query(min_length=1, max_length=64)]
When = Annotated[str | None, Query(max_length=40)]


def moment_of(container: Container) -> tuple[Moment, ZoneInfo]:
    zone, _weights = zone_and_weights(container)
    now = container.clock()
    return Moment(now=now, today=now.astimezone(zone).date()), zone


def _utc(
    field: str, value: str | None, zone: ZoneInfo, *, day_end: bool = False
) -> datetime | None:
    if value is None:
        return None
    moment = parse_moment(field, value, zone, day_end=day_end)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00 has no UTC instant
        raise Problem(
            422,
            f"{field} is out of range",
            errors=[{"field": field, "message": f"no such time: {value!r}"}],
        ) from None


@router.get("/worklists")
def worklists(container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """The worklists of the caller's roles, each with how many items it holds now."""
    lists = visible_worklists(user)
    at, _zone = moment_of(container)
    with container.store.reading() as conn:
        counts = worklist_counts(conn, user, lists, at=at)
    return {"lists": [{"key": w.key, "title": w.title, "count": counts[w.key]} for w in lists]}


@router.get("/worklists/{key}")
def worklist(
    container: ContainerDep,
    user: CurrentUser,
    key: Annotated[str, Path(max_length=32)],
    category: Code = None,
    department: Code = None,
    street: Code = None,
    grid: Code = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: When = None,
    channel: Code = None,
    nature: Code = None,
    state: Code = None,
    overdue: bool | None = None,
    urged: bool | None = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    """One worklist, most urgent first: overdue, then the nearest deadline, then the oldest.

    ``from`` and ``to`` bound when the case was received: local dates (both included) or
    times. ``state``, ``overdue`` (past the current step's deadline) and ``urged`` ask about
    the task on a task list and the case on a case list; ``channel`` and ``nature`` the case.
    404 for a key no worklist has, 403 for one the caller's roles do not show.
    """
    at, zone = moment_of(container)
    filters = Filters(
        category=category,
        department=department,
        street=street,
        grid=grid,
        received_from=_utc("from", from_, zone),
        received_to=_utc("to", to, zone, day_end=True),
        channel=channel,
        nature=nature,
        state=state,
        overdue=overdue,
        urged=urged,
    )
    active = container.catalogue_source()
    catalogue = active[1] if active else None  # words the unroutable cases' ``why``
    try:
        with container.store.reading() as conn:
            items, total = worklist_page(
                conn,
                user,
                key,
                at=at,
                filters=filters,
                page=page,
                page_size=page_size,
                catalogue=catalogue,
            )
    except UnknownWorklist as error:
        raise Problem(404, str(error)) from None
    except NotYourWorklist as error:
        raise Problem(403, str(error)) from None
    return {"items": items, "total": total, "page": page, "page_size": page_size}
