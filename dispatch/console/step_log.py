"""The step log (流转记录) of one case as the console shows it: each stage with the person who
acted (their name and department), what they said, and how long the next actor took.

Used by the case page and the timeline page; opinions are citizens' and staff's words, so
numbers in them are masked for whoever may not see phone numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from dispatch.auth.users import User
from dispatch.catalogue import WorkCalendar
from dispatch.console.people import actor_name
from dispatch.queries.case_numbers import case_numbers
from dispatch.queries.masking import mask_phones, sees_phone_numbers
from dispatch.queries.staff_names import display_names
from dispatch.queries.timeline import case_timeline


def step_log(
    conn: Connection,
    case_id: str,
    viewer: User,
    calendar: WorkCalendar | None,
    *,
    now: datetime,
) -> dict[str, Any] | None:
    """The case's timeline with ``who`` (text, translate) and opinions ready to show."""
    timeline = case_timeline(conn, case_id, calendar, now=now, opinions=True)
    if timeline is None:
        return None
    people = display_names(conn, (stage["actor"] for stage in timeline["stages"]))
    targets = [(s["opinion"] or {}).get("into") for s in timeline["stages"]]
    numbers = case_numbers(conn, targets)
    hides_numbers = not sees_phone_numbers(viewer)
    for stage in timeline["stages"]:
        stage["who"] = actor_name(stage["actor"], people)
        opinion: dict[str, Any] | None = stage["opinion"]
        if opinion is None:
            continue
        if hides_numbers:
            opinion["text"] = mask_phones(opinion.get("text"))
        if opinion.get("into"):
            opinion["into_no"] = numbers.get(opinion["into"], "")
    return timeline
