"""What each worklist (``worklist_keys``) holds, as indexed SQL on the ``case_list`` tables.

Nothing here folds a stream. Most urgent first: a task by the deadline of the step it is
at (sign, then contact, then reply) — the overdue ones come first, since their deadline is
the earliest — then the oldest; a case by urgency, then the oldest. The counts on
``GET /worklists`` run the same conditions as the pages, so a count always equals the total.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.catalogue import Catalogue, routing_advice
from dispatch.projections.case_list import live_tables
from dispatch.projections.case_list_indexes import (
    awaiting_ruling,
    inline,
    most_urgent_case_first,
    most_urgent_task_first,
    state_in,
    step_due,
)
from dispatch.queries.cases import case_summary
from dispatch.queries.detected_hotspots import detected_hotspots
from dispatch.queries.masking import (
    mask_phones,
    present_summary,
    present_task,
    sees_phone_numbers,
)
from dispatch.queries.patrols import missed_rounds
from dispatch.queries.scope import Viewer, case_scope, liaison_department, roles_of
from dispatch.queries.tasks import iso, page_bounds, task_representation, with_delivery
from dispatch.queries.worklist_keys import NotYourWorklist, Worklist, check_may_see, worklist
from events import as_utc

NOT_OPEN = ("closed", "answered", "merged", "parked")  # §8.1's invariant leaves these out
OUT_OF_PLAY = ("returned", "cancelled")  # a task that no longer holds the case
WITH_DEPARTMENT = ("dispatched", "signed", "contacted")  # the department's move
SIGNED = ("signed", "contacted")
# What a task item tells of its case (``item["case"]``), besides when it was received.
CASE_COLUMNS = ("category", "urgency", "address", "status", "street", "grid", "channel", "nature")


@dataclass(frozen=True)
class Filters:
    """The query parameters every worklist takes; ``received_from``/``received_to`` bound
    the case's ``received_at`` (``from`` included, ``to`` excluded)."""

    category: str | None = None
    department: str | None = None
    street: str | None = None
    grid: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    channel: str | None = None
    nature: str | None = None
    state: str | None = None  # a case list: the case's status; a task list: the task's state
    overdue: bool | None = None  # past the deadline of its current step now (or not)
    urged: bool | None = None  # 催办/督办 received (or not)


@dataclass(frozen=True)
class Moment:
    """``now`` for the overdue list, ``today`` (the centre's local day) for the park reviews."""

    now: datetime
    today: date


def worklist_page(
    conn: Connection,
    viewer: Viewer,
    key: str,
    *,
    at: Moment,
    filters: Filters = Filters(),
    page: int = 1,
    page_size: int = 20,
    catalogue: Catalogue | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of the worklist ``key`` and its total; ``UnknownWorklist`` for a key that
    does not exist, ``NotYourWorklist`` for one the viewer may not see. With the current
    ``catalogue``, an unroutable case's ``why.detail`` is the routing advice in Chinese."""
    listed = worklist(key)
    check_may_see(viewer, listed)
    if listed.holds == "patrol":
        return _missed_rounds(conn, viewer, at, filters, page, page_size)
    if listed.holds == "hotspot":
        return _hotspots(conn, viewer, at, filters, page, page_size)
    conditions = _conditions(listed, viewer, at, filters)
    rows = _page_rows(conn, listed, conditions, *page_bounds(page, page_size))
    if listed.holds == "case":
        items = [present_summary(case_summary(row), viewer) for row in rows]
        if key == "dispatch":
            _explain_why(conn, items, viewer, rows, catalogue)
    else:
        items = with_delivery(conn, [present_task(_task_item(row, at), viewer) for row in rows])
    return items, _count(conn, listed, conditions)


def worklist_counts(
    conn: Connection, viewer: Viewer, lists: list[Worklist], *, at: Moment
) -> dict[str, int]:
    """How many items each of ``lists`` holds for the viewer, unfiltered."""
    return {w.key: _total(conn, viewer, w, at) for w in lists}


def _total(conn: Connection, viewer: Viewer, listed: Worklist, at: Moment) -> int:
    if listed.holds == "patrol":
        return _missed_rounds(conn, viewer, at, Filters(), 1, 1)[1]
    if listed.holds == "hotspot":
        return _hotspots(conn, viewer, at, Filters(), 1, 1)[1]
    return _count(conn, listed, _conditions(listed, viewer, at, Filters()))


def _missed_rounds(
    conn: Connection, viewer: Viewer, at: Moment, f: Filters, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """漏巡 holds rounds, not cases: ``from``/``to`` bound the round's day. They arrive as
    the UTC instants of local midnights (``to``: the next day's); half a day inward lands on
    the local day itself in any zone within ±12 h."""
    limit, offset = page_bounds(page, page_size)
    half_day = timedelta(hours=12)
    return missed_rounds(
        conn,
        viewer,
        at.today,
        street=f.street,
        grid=f.grid,
        first=(f.received_from + half_day).date() if f.received_from else None,
        last=(f.received_to - half_day).date() if f.received_to else None,
        limit=limit,
        offset=offset,
    )


def _hotspots(
    conn: Connection, viewer: Viewer, at: Moment, f: Filters, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """主动治理 holds hotspots, not cases: ``from``/``to`` bound their window, read as local
    days as 漏巡 reads them."""
    limit, offset = page_bounds(page, page_size)
    half_day = timedelta(hours=12)
    return detected_hotspots(
        conn,
        viewer,
        at.today,
        street=f.street,
        grid=f.grid,
        category=f.category,
        first=(f.received_from + half_day).date() if f.received_from else None,
        last=(f.received_to - half_day).date() if f.received_to else None,
        limit=limit,
        offset=offset,
    )


# -- the conditions ----------------------------------------------------------------------------


def _conditions(listed: Worklist, viewer: Viewer, at: Moment, filters: Filters) -> list[Any]:
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    holds = HOLDS[listed.key](cases, tasks, viewer, at, filters)
    if listed.holds == "case":
        scope = case_scope(viewer, cases, tasks)
        department = _had_department(cases, tasks, filters.department)
    else:
        scope = None  # a task list's scope is its department or street, set by ``HOLDS``
        department = tasks.c.department == filters.department if filters.department else None
    chosen = (*_case_filters(cases, filters), *_state_filters(listed, cases, tasks, at, filters))
    return [c for c in (*holds, scope, department, *chosen) if c is not None]


def _dispatch(cases: sa.Table, *_: Any) -> list[Any]:
    """Open cases no task of the current round holds: never routed or unroutable, every task
    returned or cancelled (recalled, re-dispatched to nobody), reopened without new tasks.

    That is the status ``received``: the case list derives it for exactly these cases (not
    ``NOT_OPEN``, and every task of the round ``OUT_OF_PLAY``, if any; ``case_rows.derive``),
    so the list is one index range, not a look at every open case's tasks.
    ``tests/integration/test_worklists.py`` holds the two definitions equal.
    """
    return [cases.c.status == inline("received")]


def _callbacks(cases: sa.Table, *_: Any) -> list[Any]:
    not_yet = sa.or_(
        cases.c.callback_round.is_(None), cases.c.callback_round < cases.c.reopen_count
    )
    return [cases.c.status == inline("replied"), not_yet]


def _closing(cases: sa.Table, *_: Any) -> list[Any]:
    return [cases.c.status == inline("replied"), cases.c.callback_round == cases.c.reopen_count]


def _park_review(
    cases: sa.Table, _tasks: sa.Table, _viewer: Viewer, at: Moment, *_: Any
) -> list[Any]:
    return [cases.c.status == inline("parked"), cases.c.parked_review_on <= at.today]


# The task lists name their states inline: the partial indexes that hold the waiting tasks
# (``case_list_indexes``) serve a query only if its states visibly lie among theirs.


def _rulings(cases: sa.Table, tasks: sa.Table, *_: Any) -> list[Any]:
    return [awaiting_ruling(tasks), _not_parked(cases)]


def _sign(cases: sa.Table, tasks: sa.Table, viewer: Viewer, _at: Moment, f: Filters) -> list[Any]:
    own = _own_department(viewer, f)
    return [tasks.c.state == inline("dispatched"), tasks.c.department == own, _not_parked(cases)]


def _handle(cases: sa.Table, tasks: sa.Table, viewer: Viewer, _at: Moment, f: Filters) -> list[Any]:
    own = _own_department(viewer, f)
    return [state_in(tasks.c.state, SIGNED), tasks.c.department == own, _not_parked(cases)]


def _overdue(cases: sa.Table, tasks: sa.Table, viewer: Viewer, at: Moment, f: Filters) -> list[Any]:
    """Open tasks past the deadline of the step they are at, now; a parked case's deadlines
    wait, and a task awaiting a return ruling is with the dispatcher (待审核)."""
    conditions = [
        state_in(tasks.c.state, WITH_DEPARTMENT),
        _due(tasks) <= as_utc(at.now),
        _not_parked(cases),
    ]
    forced = liaison_department(viewer)
    if forced is not None:
        conditions.append(tasks.c.department == _own_department(viewer, f))
    return conditions


def _summoned(
    cases: sa.Table, tasks: sa.Table, viewer: Viewer, _at: Moment, f: Filters
) -> list[Any]:
    """The street's whistles: summoned tasks still open, and replied ones until the street
    has rated them (双考核; a merged duplicate's are cancelled, never replied)."""
    street = viewer.street or ""
    if f.street is not None and f.street != street:
        raise NotYourWorklist(f"the worklist 'summoned' shows your own street ({street}) only")
    waiting = sa.or_(
        tasks.c.state.not_in((*OUT_OF_PLAY, "replied")),
        sa.and_(tasks.c.state == "replied", tasks.c.evaluated_at.is_(None)),
    )
    return [tasks.c.role == "summoned", cases.c.street == street, waiting]


def _not_parked(cases: sa.Table) -> Any:
    return cases.c.status != inline("parked")


HOLDS = {
    "dispatch": _dispatch,
    "callbacks": _callbacks,
    "closing": _closing,
    "park_review": _park_review,
    "rulings": _rulings,
    "sign": _sign,
    "handle": _handle,
    "overdue": _overdue,
    "summoned": _summoned,
}


def _own_department(viewer: Viewer, filters: Filters) -> str:
    """A liaison's own department ('' for none: it sees nothing); asking for another is 403."""
    own = (viewer.department or "") if "liaison" in roles_of(viewer) else ""
    if filters.department is not None and filters.department != own:
        raise NotYourWorklist(
            f"a liaison's worklists show its own department ({own or 'none'}) only; "
            "leave out department or ask for your own"
        )
    return own


def _had_department(cases: sa.Table, tasks: sa.Table, department: str | None) -> Any:
    """A case list's ``department``: cases that department has (or had) a task on."""
    if department is None:
        return None
    return sa.exists().where(tasks.c.case_id == cases.c.id, tasks.c.department == department)


def _case_filters(cases: sa.Table, f: Filters) -> list[Any]:
    conditions: list[Any] = []
    if f.category is not None:
        if f.category.endswith("*"):
            prefix = f.category.rstrip("*")
            conditions.append(cases.c.category.startswith(prefix, autoescape=True))
        else:
            conditions.append(cases.c.category == f.category)
    for column, value in (
        ("street", f.street),
        ("grid", f.grid),
        ("channel", f.channel),
        ("nature", f.nature),
    ):
        if value is not None:
            conditions.append(cases.c[column] == value)
    if f.received_from is not None:
        conditions.append(cases.c.received_at >= as_utc(f.received_from))
    if f.received_to is not None:
        conditions.append(cases.c.received_at < as_utc(f.received_to))
    return conditions


def _state_filters(
    listed: Worklist, cases: sa.Table, tasks: sa.Table, at: Moment, f: Filters
) -> list[Any]:
    """``state``, ``overdue`` and ``urged`` ask about the task on a task list, the case on a
    case list (its ``overdue`` flag and ``urge_count`` from the case list)."""
    conditions: list[Any] = []
    if listed.holds == "task":
        if f.state is not None:
            conditions.append(tasks.c.state == f.state)
        if f.overdue is not None:
            late = sa.and_(_due(tasks).is_not(None), _due(tasks) <= as_utc(at.now))
            conditions.append(late if f.overdue else sa.not_(late))
        if f.urged is not None:
            urged = tasks.c.urged_level.is_not(None)
            conditions.append(urged if f.urged else sa.not_(urged))
        return conditions
    if f.state is not None:
        conditions.append(cases.c.status == f.state)
    if f.overdue is not None:
        conditions.append(cases.c.overdue == f.overdue)
    if f.urged is not None:
        conditions.append(cases.c.urge_count > 0 if f.urged else cases.c.urge_count == 0)
    return conditions


# -- selecting, ordering, counting -------------------------------------------------------------


def _due(tasks: sa.Table) -> Any:
    """The deadline of the step the task is at; none once it has replied (as the inbox)."""
    return step_due(tasks)


def _page_rows(
    conn: Connection, listed: Worklist, conditions: list[Any], limit: int, offset: int
) -> list[Any]:
    """The page's rows, chosen by id first and only then read whole: the choice runs on the
    lists' indexes alone (``case_list_indexes``), so the rows before a deep page, or those a
    filter leaves out, are never read from the tables."""
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    if listed.holds == "case":
        order = _case_order(listed)
        chosen = sa.select(cases.c.id).where(*conditions)
        query = sa.select(cases)
        key = cases.c.id
    else:
        order = _task_order()
        chosen = (
            sa.select(tasks.c.id)
            .join(cases, cases.c.id == tasks.c.case_id)
            .where(*conditions, *_waiting(listed, cases))
        )
        query = _task_select()
        key = tasks.c.id
    chosen = chosen.order_by(*order).limit(limit).offset(offset)
    return list(conn.execute(query.where(key.in_(chosen)).order_by(*order)).mappings())


def _task_select() -> sa.Select[Any]:
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    columns = [cases.c[name].label(f"case_{name}") for name in (*CASE_COLUMNS, "received_at")]
    return sa.select(tasks, *columns).join(cases, cases.c.id == tasks.c.case_id)


def _case_order(listed: Worklist) -> list[Any]:
    cases = live_tables()["case_list"]
    first = [cases.c.parked_review_on] if listed.key == "park_review" else []
    return [*first, *most_urgent_case_first(cases)]


def _task_order() -> list[Any]:
    return most_urgent_task_first(live_tables()["case_tasks"])


# Lists of tasks that wait on someone (``case_list_indexes.WAITING``): their cases are
# among the few with an open task.
WAITING_LISTS = frozenset({"rulings", "sign", "handle", "overdue"})


def _waiting(listed: Worklist, cases: sa.Table) -> list[Any]:
    """A waiting task's case has an open task (``open_tasks`` counts them): said outright,
    the join reads the small index of such cases (``case_list_indexes``), not the case list.
    The planner takes it for a filter that keeps one case in fifty and so joins all the
    list's tasks and sorts them — the same few milliseconds for any page and filter."""
    return [cases.c.open_tasks > inline(0)] if listed.key in WAITING_LISTS else []


def _count(conn: Connection, listed: Worklist, conditions: list[Any]) -> int:
    tables = live_tables()
    cases, tasks = tables["case_list"], tables["case_tasks"]
    if listed.holds == "case":
        query = sa.select(sa.func.count()).select_from(cases).where(*conditions)
    else:
        joined = tasks.join(cases, cases.c.id == tasks.c.case_id)
        query = sa.select(sa.func.count()).select_from(joined)
        query = query.where(*conditions, *_waiting(listed, cases))
    return int(conn.execute(query).scalar() or 0)


# -- the items ---------------------------------------------------------------------------------

STEP_DEADLINES = (("sign", "signed_at", "sign_by"), ("contact", "contacted_at", "contact_by"))


def _task_item(row: Mapping[Any, Any], at: Moment) -> dict[str, Any]:
    item = task_representation(row)
    item["case"] = {name: row[f"case_{name}"] for name in CASE_COLUMNS}
    item["case"]["received_at"] = iso(row["case_received_at"])
    item["due"] = _due_of(row, at)
    return item


def _due_of(row: Mapping[Any, Any], at: Moment) -> dict[str, Any] | None:
    """``{stage, deadline, overdue}``: the step the task is at and when it is due."""
    if row["state"] in ("replied", *OUT_OF_PLAY):
        return None
    stage, deadline = "reply", row["reply_by"]
    for name, done, by in STEP_DEADLINES:
        if row[done] is None:
            stage, deadline = name, row[by]
            break
    overdue = deadline is not None and as_utc(deadline) <= as_utc(at.now)
    return {"stage": stage, "deadline": iso(deadline), "overdue": overdue}


def _explain_why(
    conn: Connection,
    items: list[dict[str, Any]],
    viewer: Viewer,
    rows: list[Any],
    catalogue: Catalogue | None = None,
) -> None:
    """Why each case is on 待派单: ``why = {reason, detail, department, at}``, the reason one
    of ``unroutable`` · ``returned`` · ``recalled`` · ``cancelled`` · ``reopened`` · ``new``
    (received, not yet routed), from the last task of the case's current round. An
    unroutable case adds the ``candidates`` the router weighed (from its row in ``rows``);
    with the catalogue its ``detail`` is one plain-Chinese line (the router's own words stay
    in ``routing``), and ``suggested`` the departments it offers."""
    tasks = live_tables()["case_tasks"]
    last: dict[str, Mapping[Any, Any]] = {}
    if items:
        query = sa.select(tasks).where(tasks.c.case_id.in_([item["id"] for item in items]))
        for row in conn.execute(query.order_by(tasks.c.dispatched_version)).mappings():
            last[row["case_id"]] = row  # the latest dispatched wins
    for item, row in zip(items, rows, strict=True):
        task = last.get(item["id"])
        if task is not None and task["round"] != item["reopen_count"]:
            task = None
        why = _why({**item, "unroutable_candidates": row["unroutable_candidates"]}, task)
        if why["reason"] == "unroutable" and catalogue is not None:
            advice = routing_advice(catalogue, category=item["category"], location=item["location"])
            why.update(routing=why["detail"], detail=advice.line, suggested=list(advice.suggested))
        if not sees_phone_numbers(viewer):
            why["detail"] = mask_phones(why["detail"])
        item["why"] = why


def _unroutable_detail(case: Mapping[str, Any]) -> dict[str, Any]:
    """The router's reason and every rule it weighed, each with why it did not match (the
    dispatcher sees at once whether a rule or a grid is missing)."""
    candidates = json.loads(case["unroutable_candidates"] or "[]")
    weighed = "; ".join(f"{c['rule_id']}: {c['reason']}" for c in candidates)
    detail = f"{case['unroutable']} ({weighed})" if weighed else case["unroutable"]
    return {"detail": detail, "candidates": candidates}


def _why(case: Mapping[str, Any], task: Mapping[Any, Any] | None) -> dict[str, Any]:
    why: dict[str, Any] = {
        "reason": "new",
        "detail": None,
        "department": None,
        "return_reason": None,
        "at": None,
        "candidates": [],
    }
    if task is None and case["reopen_count"]:
        return {**why, "reason": "reopened"}
    if task is None:
        if case["unroutable"] is not None:
            return {**why, "reason": "unroutable", **_unroutable_detail(case)}
        return why
    why["department"] = task["department"]
    if task["state"] == "returned":
        return {
            **why,
            "reason": "returned",
            "return_reason": task["return_reason"],
            "detail": task["return_basis"],
            "at": iso(task["returned_at"]),
        }
    cancel = str(task["cancel_reason"] or "")
    recalled = "recall" in cancel.lower() or "召回" in cancel
    return {**why, "reason": "recalled" if recalled else "cancelled", "detail": cancel or None}
