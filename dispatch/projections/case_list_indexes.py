"""The case list's indexes for the worklists (DESIGN.md §8.1) and its heavier filters.

A million cases hold a few thousand open ones: the worklists page through those, most urgent
first, and count them. Each index below holds only the rows some list can show and keeps them
in the order the list shows them, so a page reads its 20 rows and a total counts the list, not
the year. The order expressions are defined here, once, and the queries
(``dispatch.queries.worklist_items``, ``dispatch.queries.tasks``) build theirs from these same
functions: PostgreSQL uses an expression index only for the very same expression. The values
in them are rendered inline (``literal``) so that a cached plan still matches. PostgreSQL
only; SQLite, for tests and trials, reads its small tables without them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import Grouping

from dispatch.domain.case_state import OPEN_TASK

# Tasks that still wait on someone: the department, or a dispatcher's ruling on a return
# (the case list's ``open_tasks`` counts these).
WAITING = tuple(sorted(state.value for state in OPEN_TASK))
OUT_OF_PLAY = ("returned", "cancelled")
DONE = ("replied", *OUT_OF_PLAY)  # no step left to be due
SIGNED = ("signed", "contacted")
URGENCY_ORDER = {"emergency": 0, "urgent": 1}  # then everything else


# What the task lists read of a task and of its case, carried in their indexes so that a
# list's total is counted from the indexes alone (an index-only scan).
TASK_FACTS = (
    "state", "signed_at", "sign_by", "contacted_at", "contact_by", "reply_by",
    "extension_reply_by", "case_id",
)  # fmt: skip
CASE_FACTS = ("status", "category", "street", "grid", "channel", "nature", "received_at")
# What the case lists read of an open case besides its status and urgency.
OPEN_CASE_FACTS = (
    "category", "street", "grid", "channel", "nature", "callback_round", "reopen_count",
    "parked_review_on", "urge_count", "overdue",
)  # fmt: skip
FINISHED = ("closed", "answered", "merged")  # on no worklist, nearly all of the cases


def inline(value: Any) -> Any:
    """``value`` written into the statement rather than sent as a parameter."""
    return sa.literal(value, literal_execute=True)


def state_in(column: sa.ColumnElement[Any], states: Iterable[str]) -> Any:
    return column.in_([inline(state) for state in states])


def in_play(tasks: sa.Table) -> Any:
    """The task still holds its case: neither returned nor cancelled."""
    return tasks.c.state.not_in([inline(state) for state in OUT_OF_PLAY])


def step_due(tasks: sa.Table) -> Any:
    """The deadline of the step the task is at; none once it has replied or left play."""
    return sa.case(
        (state_in(tasks.c.state, DONE), sa.null()),
        (tasks.c.signed_at.is_(None), tasks.c.sign_by),
        (tasks.c.contacted_at.is_(None), tasks.c.contact_by),
        else_=tasks.c.reply_by,
    )


def most_urgent_task_first(tasks: sa.Table) -> list[Any]:
    """The overdue first (their deadline is the earliest), then the nearest deadline, then
    the oldest; tasks with no step due last."""
    due = step_due(tasks)
    return [due.is_(None), due, tasks.c.dispatched_at, tasks.c.id]


def awaiting_ruling(tasks: sa.Table) -> Any:
    """待审核: a return requested, or an extension requested by a department at work."""
    return sa.or_(
        tasks.c.state == inline("return_requested"),
        sa.and_(tasks.c.extension_reply_by.is_not(None), state_in(tasks.c.state, SIGNED)),
    )


def urgency_rank(cases: sa.Table) -> Any:
    whens = {inline(level): inline(rank) for level, rank in URGENCY_ORDER.items()}
    return sa.case(whens, value=cases.c.urgency, else_=inline(len(URGENCY_ORDER)))


def most_urgent_case_first(cases: sa.Table) -> list[Any]:
    return [urgency_rank(cases), cases.c.received_at, cases.c.id]


def _keys(*expressions: Any) -> list[Any]:
    """Index keys: PostgreSQL wants an expression key in parentheses."""
    return [e if isinstance(e, sa.Column) else Grouping(e) for e in expressions]


def declare_case_list_indexes(cases: sa.Table, tasks: sa.Table, suffix: str = "") -> None:
    """Attach the indexes to the case list's tables (``CaseListProjection.define``)."""
    waiting = state_in(tasks.c.state, WAITING)
    indexes = [
        # 待派单, 待回访, 待结案, 挂账到期: the cases still open, by status, most urgent first.
        sa.Index(f"ix_case_list{suffix}_open_status_urgency",
                 *_keys(cases.c.status, *most_urgent_case_first(cases)),
                 postgresql_where=cases.c.status.not_in([inline(s) for s in FINISHED]),
                 postgresql_include=list(OPEN_CASE_FACTS)),
        # 超期 for the centre.
        sa.Index(f"ix_case_tasks{suffix}_waiting_due", *_keys(*most_urgent_task_first(tasks)),
                 postgresql_where=waiting, postgresql_include=[*TASK_FACTS, "department"]),
        # 待审核.
        sa.Index(f"ix_case_tasks{suffix}_awaiting_ruling", *_keys(*most_urgent_task_first(tasks)),
                 postgresql_where=awaiting_ruling(tasks), postgresql_include=list(TASK_FACTS)),
        # 待签收, 待办理 and 超期 of one department.
        sa.Index(f"ix_case_tasks{suffix}_department_waiting_due",
                 *_keys(tasks.c.department, *most_urgent_task_first(tasks)),
                 postgresql_where=waiting, postgresql_include=list(TASK_FACTS)),
        # The cases those tasks belong to, with what a task list filters them by: the
        # lists join these few rows, not the case list's million (``open_tasks`` counts the
        # tasks in a waiting state, so a waiting task's case is always among them).
        sa.Index(f"ix_case_list{suffix}_with_open_tasks", cases.c.id,
                 postgresql_where=cases.c.open_tasks > 0, postgresql_include=list(CASE_FACTS)),
        # The case list's ``department``: the cases a department has a task in play on,
        # counted from here as distinct case ids.
        sa.Index(f"ix_case_tasks{suffix}_department_case", tasks.c.department, tasks.c.case_id,
                 postgresql_where=in_play(tasks)),
        # The case list's ``overdue=true``: the few cases late now, newest first.
        sa.Index(f"ix_case_list{suffix}_overdue_received_at", cases.c.received_at,
                 postgresql_where=cases.c.overdue.is_(True)),
    ]  # fmt: skip
    for index in indexes:
        index.ddl_if(dialect="postgresql")
