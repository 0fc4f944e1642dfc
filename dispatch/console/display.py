"""How times, durations, countdowns and rates read on screen, in the catalogue's time zone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from gettext import NullTranslations
from typing import Any
from zoneinfo import ZoneInfo


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A timezone-aware datetime from a datetime or the API's ISO 8601 text."""
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_time(value: datetime | str | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """``2026-11-03 14:05`` in ``zone``; an empty string for no time."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return moment.astimezone(zone).strftime(shape)


def local_date(value: date | str | None) -> str:
    if value is None or value == "":
        return ""
    return value if isinstance(value, str) else value.isoformat()


def duration(seconds: float | None, t: NullTranslations) -> str:
    """``2d 3h``, ``3h 12m``, ``5m``, ``40s``: the two largest units, translated; ``—`` for none."""
    if seconds is None:
        return "—"
    left = int(abs(seconds))
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes, rest = divmod(left, 60)
    if days:
        return t.gettext("%(d)dd %(h)dh") % {"d": days, "h": hours}
    if hours:
        return t.gettext("%(h)dh %(m)dm") % {"h": hours, "m": minutes}
    if minutes:
        return t.gettext("%(m)dm") % {"m": minutes}
    return t.gettext("%(s)ds") % {"s": rest}


def countdown(deadline: datetime | str | None, now: datetime, t: NullTranslations) -> str:
    """``3h 12m left`` or ``overdue 2h 5m``."""
    moment = as_datetime(deadline)
    if moment is None:
        return ""
    seconds = (moment - now).total_seconds()
    if seconds >= 0:
        return t.gettext("%(time)s left") % {"time": duration(seconds, t)}
    return t.gettext("overdue %(time)s") % {"time": duration(seconds, t)}


def pretty_json(value: Any) -> str:
    """JSON for people to read (Chinese kept as is); the template escapes it like any text."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True, default=str)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# The step a task waits for in each state, and the deadline that step runs against.
NEXT_STEP = {"dispatched": "sign", "signed": "contact", "contacted": "reply"}
DEADLINE_OF = {"sign": "sign_by", "contact": "contact_by", "reply": "reply_by"}
YELLOW_AT = 0.8  # the default policies' warn_at: a badge, not a KPI (alerts use the policy's)


def task_clock(task: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The step the task waits for, its deadline and a badge level (None, yellow, red),
    computed against ``now`` so the badge is right even while the SLA timer lags."""
    stage = NEXT_STEP.get(task["state"])
    if stage is None:
        return None
    deadline = as_datetime(task["deadlines"][DEADLINE_OF[stage]])
    if deadline is None:
        return None
    started = as_datetime(task.get("dispatched_at")) or now
    level = None
    if now >= deadline:
        level = "red"
    elif (now - started) >= (deadline - started) * YELLOW_AT:
        level = "yellow"
    return {"stage": stage, "deadline": deadline.isoformat(), "level": level}


# (stage, deadline key, the field that records the step done), in the order they fall due.
STEPS = (("sign", "sign_by", "signed_at"), ("contact", "contact_by", "contacted_at"),
         ("reply", "reply_by", "replied_at"))  # fmt: skip
LIVE = frozenset({"dispatched", "signed", "contacted", "return_requested"})


def deadline_marks(task: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Each deadline with its verdict, so nobody reads a ✓ beside a missed deadline:

    ``on_time`` (done by the deadline) · ``late`` (done after it; ``late_by`` seconds) ·
    ``overdue`` (not done, the task still live, the deadline passed; ``late_by`` until now) ·
    ``missed`` (the task replied without the step, after its deadline) · ``open`` (time left)
    · ``none`` (the task left before the step was due).
    """
    marks = []
    replied = as_datetime(task.get("replied_at"))
    for stage, key, done_key in STEPS:
        deadline = as_datetime((task.get("deadlines") or {}).get(key))
        done = as_datetime(task.get(done_key))
        verdict, late_by = "none", None
        if deadline is None:
            verdict = "none"
        elif done is not None:
            verdict = "on_time" if done <= deadline else "late"
            late_by = max(0, int((done - deadline).total_seconds()))
        elif task.get("state") in LIVE:
            verdict = "overdue" if now > deadline else "open"
            late_by = int((now - deadline).total_seconds()) if now > deadline else None
        elif replied is not None and replied > deadline:
            verdict, late_by = "missed", int((replied - deadline).total_seconds())
        marks.append(
            {"stage": stage, "deadline": deadline, "done": done, "verdict": verdict,
             "late_by": late_by}
        )  # fmt: skip
    return marks
