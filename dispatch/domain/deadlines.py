"""A task's deadlines once the SLA policy has given its due times (签收 · 联系 · 办结).

The catalogue computes due times from its policies and working calendar; these rules shape
them into a task's deadlines, and cap how far an extension (延期) may move ``reply_by``. The
calendar comes in as an argument (``WorkingTime``) so that the domain stays pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from dispatch.domain.case_state import TaskState
from dispatch.domain.events import Deadlines


class WorkingTime(Protocol):
    """A working calendar: ``start`` plus a duration such as ``15wd`` → (deadline, assumed)."""

    def add(self, start: datetime, duration: str) -> tuple[datetime, bool]: ...


def task_deadlines(
    *,
    sign_by: datetime,
    contact_by: datetime,
    reply_by: datetime,
    calendar_assumed: bool,
    report_by: datetime | None = None,
) -> Deadlines:
    """吹哨报到: a summoned department's report-in deadline (``report_by``) is its signing
    deadline. No later deadline may fall before signing: a department cannot be due to
    contact the citizen or reply before it is due to sign."""
    if report_by is not None:
        sign_by = report_by
    return Deadlines(
        sign_by=sign_by,
        contact_by=max(contact_by, sign_by),
        reply_by=max(reply_by, sign_by),
        calendar_assumed=calendar_assumed,
    )


def latest_reply_by(task: TaskState, calendar: WorkingTime) -> datetime:
    """The furthest an extension may move ``reply_by``: the original deadline plus the
    policy's ``max_extension``, so the cap holds for the total of every extension granted."""
    if not task.max_extension:
        return task.original_reply_by
    latest, _assumed = calendar.add(task.original_reply_by, task.max_extension)
    return latest
