"""Deadlines for a dispatched task: sign (签收), contact (联系群众) and reply (办结答复).

The policy is the category's, unless ``urgency_sla`` names a stricter one for the case's
urgency. The yellow warning falls at ``warn_at`` of the *clock* time between dispatch and the
deadline (a 7wd reply over a holiday week warns later than over an ordinary week, which is what
a liaison looking at the deadline expects). Extensions move ``reply_by``; the total is capped by
``max_extension`` counted from the original ``reply_by`` (``dispatch.domain.deadlines``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from dispatch.catalogue.model import Catalogue
from dispatch.catalogue.workcalendar import WorkCalendar


class DueTimes(BaseModel):
    model_config = ConfigDict(frozen=True)

    sign_by: datetime
    contact_by: datetime
    reply_by: datetime
    warn_at: float
    max_extension: str | None
    policy: str
    calendar_assumed: bool
    calendar_version: str


class UnknownCategory(LookupError):
    """The case's category is not in this catalogue version: a dispatcher must recategorise."""


def work_calendar(catalogue: Catalogue) -> WorkCalendar:
    """The catalogue's working calendar, built once per catalogue object."""
    return catalogue.cached(
        "work_calendar", lambda: WorkCalendar(catalogue.calendar, catalogue.zone)
    )


def policy_for(catalogue: Catalogue, category: str, urgency: str) -> str:
    """The SLA policy name for a case: the urgency's policy if any, else the category's."""
    if urgency in catalogue.urgency_sla:
        return catalogue.urgency_sla[urgency]
    found = catalogue.category(category)
    if found is None:
        raise UnknownCategory(
            f"category {category!r} is not in catalogue {catalogue.version!r}; "
            "recategorise the case with a category of the current catalogue"
        )
    return found.sla


def deadlines_for(
    catalogue: Catalogue, category: str, urgency: str, dispatched_at: datetime
) -> DueTimes:
    """Sign, contact and reply deadlines for a task dispatched at ``dispatched_at`` (aware)."""
    name = policy_for(catalogue, category, urgency)
    policy = catalogue.sla[name]
    calendar = work_calendar(catalogue)
    sign_by, sign_assumed = calendar.add(dispatched_at, policy.sign)
    contact_by, contact_assumed = calendar.add(dispatched_at, policy.contact)
    reply_by, reply_assumed = calendar.add(dispatched_at, policy.reply)
    return DueTimes(
        sign_by=sign_by,
        contact_by=contact_by,
        reply_by=reply_by,
        warn_at=policy.warn_at,
        max_extension=str(policy.max_extension) if policy.max_extension else None,
        policy=name,
        calendar_assumed=sign_assumed or contact_assumed or reply_assumed,
        calendar_version=calendar.version,
    )


def warning_time(start: datetime, deadline: datetime, warn_at: float) -> datetime:
    """When the yellow warning is due: ``warn_at`` of the clock time from start to deadline."""
    return start + (deadline - start) * warn_at
