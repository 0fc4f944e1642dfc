"""Worklist and case-list page latency, for ``bench/kpi_query.py``: the queries the desks run
most (DESIGN.md §8.1), timed through their query functions and once each through HTTP.

Each worklist a dispatcher (待派单, 待审核, 待回访, 待结案), a liaison of the busiest
department (待签收, 待办理, its 超期) and a supervisor (超期, 挂账到期) opens: the first page,
page 20, and the first page filtered by category and by street. The supervisor's case list:
first and deep page, filtered by status, category, street, department and overdue, and
searched (a common word, page 1 and 20; one address). Every figure keyed ``worklist_<key>…`` or
``case_list…``; the bar is p95 ≤ 50 ms at a million cases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from bench.kpi_cases import timed
from bench.kpi_stories import BEIJING
from dispatch.queries.cases import list_cases
from dispatch.queries.worklist_items import Filters, Moment, worklist_page

TARGET_MS = 50.0
BUSIEST = "dept-00"  # the liaison's department: the most tasks of all (``kpi_stories``)
CATEGORY, STREET = "cat-00", "st-03"  # the commonest category; an ordinary street
DEEP_PAGE = 20
OPEN = "received,dispatched,in_progress,reopened,replied"
SEARCH_WORD, SEARCH_ADDRESS = "井盖", "西一路 123 号"

DISPATCHER = SimpleNamespace(roles={"dispatcher"}, department=None, street=None)
SUPERVISOR = SimpleNamespace(roles={"supervisor"}, department=None, street=None)
LIAISON = SimpleNamespace(roles={"liaison"}, department=BUSIEST, street=None)
# (figure name, worklist key, viewer)
WORKLISTS = (
    ("dispatch", "dispatch", DISPATCHER),
    ("rulings", "rulings", DISPATCHER),
    ("callbacks", "callbacks", DISPATCHER),
    ("closing", "closing", DISPATCHER),
    ("sign", "sign", LIAISON),
    ("handle", "handle", LIAISON),
    ("overdue_liaison", "overdue", LIAISON),
    ("overdue", "overdue", SUPERVISOR),
    ("park_review", "park_review", SUPERVISOR),
)
# (figure suffix, page, filters)
VARIANTS = (
    ("", 1, Filters()),
    (f"_page{DEEP_PAGE}", DEEP_PAGE, Filters()),
    ("_category", 1, Filters(category=CATEGORY)),
    ("_street", 1, Filters(street=STREET)),
)
# (figure name, list_cases keywords)
CASE_LISTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("case_list", {}),
    (f"case_list_page{DEEP_PAGE}", {"page": DEEP_PAGE}),
    ("case_list_open", {"status": OPEN}),
    (f"case_list_open_page{DEEP_PAGE}", {"status": OPEN, "page": DEEP_PAGE}),
    ("case_list_category", {"category": CATEGORY}),
    ("case_list_street", {"street": STREET}),
    ("case_list_department", {"department": BUSIEST}),
    ("case_list_overdue", {"overdue": True}),
    ("case_list_search", {"q": SEARCH_WORD}),
    (f"case_list_search_page{DEEP_PAGE}", {"q": SEARCH_WORD, "page": DEEP_PAGE}),
    ("case_list_search_address", {"q": SEARCH_ADDRESS}),
)


def moment(now: datetime) -> Moment:
    return Moment(now=now, today=now.astimezone(BEIJING).date())


def list_figures(conn: Any, now: datetime, runs: int) -> dict[str, Any]:
    """Every worklist and case-list figure, through the query functions; with each list's
    total at ``now`` (``sizes``), so an empty list is seen, not timed as fast."""
    figures: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    at = moment(now)
    for name, key, viewer in WORKLISTS:
        for suffix, page, filters in VARIANTS:

            def page_of(key: str = key, viewer: Any = viewer, f: Filters = filters, p: int = page):
                return worklist_page(conn, viewer, key, at=at, filters=f, page=p)

            sizes[f"worklist_{name}{suffix}"] = page_of()[1]
            figures[f"worklist_{name}{suffix}"] = timed(page_of, runs)
    for name, keywords in CASE_LISTS:

        def cases(keywords: dict[str, Any] = keywords) -> tuple[list[Any], int]:
            return list_cases(conn, SUPERVISOR, **keywords)

        sizes[name] = cases()[1]
        figures[name] = timed(cases, runs)
    figures["list_totals"] = sizes
    return figures


def http_list_figures(get: Callable[[str, str, dict[str, Any]], Any], runs: int) -> dict[str, Any]:
    """A few of the pages above through HTTP (routing, auth, JSON): ``get(role, path,
    params)`` asks as a user of that role."""
    pages = (
        ("http_worklist_sign", "liaison", "/api/v1/worklists/sign", {}),
        ("http_worklist_overdue", "supervisor", "/api/v1/worklists/overdue", {}),
        (
            f"http_worklist_dispatch_page{DEEP_PAGE}",
            "dispatcher",
            "/api/v1/worklists/dispatch",
            {"page": DEEP_PAGE},
        ),
        ("http_worklist_handle_street", "liaison", "/api/v1/worklists/handle", {"street": STREET}),
        ("http_case_list", "supervisor", "/api/v1/cases", {}),
        ("http_case_list_search", "supervisor", "/api/v1/cases", {"q": SEARCH_WORD}),
    )
    figures: dict[str, Any] = {}
    for name, role, path, params in pages:
        figures[name] = timed(lambda r=role, p=path, q=params: get(r, p, q), runs)
    return figures


def missed(figures: dict[str, Any]) -> list[str]:
    """The list figures whose p95 is over the bar."""
    return [
        name
        for name, value in figures.items()
        if name.startswith(("worklist_", "case_list", "http_worklist", "http_case_list"))
        and isinstance(value, dict)
        and "p95_ms" in value
        and value["p95_ms"] > TARGET_MS
    ]
