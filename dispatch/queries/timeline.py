"""A case's timeline (流转轨迹): every stage, who acted, who held the case and for how long.

Folding one case's stream is fine here: it is one short stream, read on demand. A stage starts
at its event and ends at the first later event that settles it (a dispatch ends at the sign,
the return request or the cancellation of the same task), so its duration is the time the
next actor took. Durations are given in clock seconds and, with a working calendar, in
working seconds (inside the catalogue's office hours on working days).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from dispatch.catalogue.workcalendar import WorkCalendar
from dispatch.domain import events as ev
from dispatch.domain.events import registry
from events import EventStore, RecordedEvent, as_utc

CASE = "case"  # the track of case-level stages; task stages run on their task's track
_TASK = frozenset({"TaskSigned", "TaskReturnRequested", "TaskCancelled", "TaskReturnApproved"})
_WORK = frozenset({"CitizenContacted", "TaskReplied", "TaskReturnRequested", "TaskCancelled"})
_LEAVE = frozenset({"CaseDispatched", "CaseAnswered", "CaseMerged", "CaseUnroutable"})

# event type → (stage, the event types that end it, whether they must be of the same task).
# No end types: an instant (urge, warning, ruling).
STAGES: dict[str, tuple[str, frozenset[str], bool]] = {
    "CaseReceived": ("received", _LEAVE, False),
    "CaseUnroutable": ("unroutable", _LEAVE - {"CaseUnroutable"}, False),
    "CaseAnswered": ("answered", frozenset(), False),
    "CaseDispatched": ("dispatched", _TASK, True),
    "WhistleBlown": ("whistle", frozenset(), False),
    "TaskSigned": ("signed", _WORK, True),
    "CitizenContacted": ("contacted", frozenset({"TaskReplied", "TaskCancelled"}), True),
    "TaskReturnRequested": (
        "return_requested",
        frozenset({"TaskReturnApproved", "TaskReturnRejected", "TaskCancelled"}),
        True,
    ),
    "TaskReturnRejected": ("return_rejected", frozenset(), True),
    "TaskReturnApproved": ("returned", frozenset({"CaseDispatched", "CaseClosed"}), False),
    "TaskCancelled": ("cancelled", frozenset(), True),
    "ExtensionRequested": (
        "extension_requested",
        frozenset({"ExtensionApproved", "ExtensionDenied", "TaskCancelled"}),
        True,
    ),
    "ExtensionApproved": ("extension_approved", frozenset(), True),
    "ExtensionDenied": ("extension_denied", frozenset(), True),
    "ProgressNoted": ("progress", frozenset(), True),
    "SlaWarningRaised": ("warning", frozenset(), True),
    "TaskReplied": (
        "replied",
        frozenset({"CallbackRecorded", "CaseClosed", "CaseReopened"}),
        False,
    ),
    "CaseUrged": ("urged", frozenset(), False),
    "CallbackRecorded": (
        "callback",
        frozenset({"CaseClosed", "CaseReopened", "CallbackRecorded"}),
        False,
    ),
    "CaseReopened": ("reopened", frozenset({"CaseDispatched", "CaseClosed"}), False),
    "CaseParked": ("parked", frozenset({"CaseUnparked", "CaseClosed"}), False),
    "CaseUnparked": ("unparked", frozenset(), False),
    "CaseMerged": ("merged", frozenset(), False),
    "CaseClosed": ("closed", frozenset({"CaseReopened"}), False),
    # Photos are instants; the stage name says which (attachment_intake, _progress, _reply).
    "AttachmentAdded": ("attachment", frozenset(), False),
    "AttachmentErased": ("attachment_erased", frozenset(), False),
}
# Stages that simply last while nothing follows them: the case is still in that state.
_RESTING = frozenset({"closed"})


def opinion_of(event: Any) -> dict[str, Any] | None:
    """What the person said when they acted (退单理由, 延期理由, 办理结果, 回访意见 …): ``kind``
    names the field, ``text`` holds their words, ``code``/``extra`` any coded part of it."""
    match event:
        case ev.TaskReturnRequested():
            return {"kind": "return", "code": event.reason, "text": event.basis}
        case ev.ExtensionRequested():
            return {"kind": "extension", "text": event.reason, "extra": event.reply_by}
        case ev.TaskReplied():
            return {"kind": "resolution", "text": event.resolution}
        case ev.CallbackRecorded():
            code = f"{event.solved}/{event.satisfaction}"
            return {"kind": "callback", "code": code, "text": event.note}
        case ev.CaseAnswered():
            return {"kind": "answer", "text": event.answer}
        case ev.CaseParked():
            return {"kind": "plan", "text": event.plan, "extra": event.review_on}
        case ev.CaseClosed():
            text = event.override_reason or event.note
            return {"kind": "override" if event.override_reason else "note", "text": text}
        case ev.CaseUrged():
            return {"kind": "urge", "code": event.level, "text": event.note}
        case ev.CitizenContacted() | ev.ProgressNoted():
            return {"kind": "note", "text": event.note}
        case (
            ev.TaskReturnApproved()
            | ev.TaskReturnRejected()
            | ev.ExtensionApproved()
            | ev.ExtensionDenied()
            | ev.CaseUnparked()
        ):
            return {"kind": "ruling", "text": event.note} if event.note else None
        case ev.CaseReopened() | ev.TaskCancelled() | ev.WhistleBlown() | ev.CaseUnroutable():
            return {"kind": "reason", "text": event.reason}
        case ev.CaseMerged():
            return {"kind": "merged", "text": None, "into": event.into}
    return None


def working_seconds(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    """Seconds of ``[start, end)`` inside working periods of working days (local time)."""
    if end <= start:
        return 0
    total = timedelta()
    day = start.astimezone(calendar.zone).date()
    last = end.astimezone(calendar.zone).date()
    while day <= last:
        for opens, closes in calendar.periods(day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return int(total.total_seconds())


class _Durations:
    def __init__(self, calendar: WorkCalendar | None, now: datetime | None) -> None:
        self.calendar, self.now = calendar, now

    def span(self, start: datetime, end: datetime | None) -> dict[str, Any]:
        """``end`` None: still running — measured up to ``now`` when the caller gave one."""
        until = end or self.now
        if until is None:
            return {"end": None, "ongoing": True, "seconds": None, "working_seconds": None}
        working = working_seconds(self.calendar, start, until) if self.calendar else None
        return {
            "end": end,
            "ongoing": end is None,
            "seconds": int((until - start).total_seconds()),
            "working_seconds": working,
        }


def _read(source: EventStore | Connection, case_id: str) -> list[RecordedEvent]:
    if isinstance(source, EventStore):
        return source.read_stream(case_id)
    return EventStore(source.engine).read_stream(case_id, conn=source)


def case_timeline(
    source: EventStore | Connection,
    case_id: str,
    calendar: WorkCalendar | None = None,
    *,
    now: datetime | None = None,
    opinions: bool = False,
) -> dict[str, Any] | None:
    """The timeline of ``case_id``, or ``None`` when there is no such case.

    Without a ``calendar`` (no catalogue loaded yet) ``working_seconds`` is ``None``.
    ``opinions`` adds each stage's ``opinion`` (``opinion_of``) and the actor's department:
    citizens' words, so the caller masks them for whoever may not see phone numbers.
    """
    stream = _read(source, case_id)
    if not stream:
        return None
    now = now.astimezone(UTC) if now is not None else None
    durations = _Durations(calendar, now)
    events = [(recorded, registry.decode(recorded)) for recorded in stream]
    departments: dict[str, str] = {}
    hops: dict[str, int] = {}
    stages: list[dict[str, Any]] = []
    for index, (recorded, event) in enumerate(events):
        task_id = getattr(event, "task_id", None)
        if recorded.type == "CaseDispatched":
            departments[task_id] = event.department  # type: ignore[attr-defined]
            if event.role == "lead":  # type: ignore[attr-defined]
                hops[task_id] = len(hops) + 1
        rule = STAGES.get(recorded.type)
        if rule is None:
            continue
        stage, ends, same_task = rule
        if recorded.type == "AttachmentAdded":
            stage = f"attachment_{event.stage}"  # type: ignore[attr-defined]
        start = as_utc(recorded.recorded_at)
        end: datetime | None = start if not ends else None
        for later, later_event in events[index + 1 :]:
            if later.type in ends and (
                not same_task or getattr(later_event, "task_id", None) == task_id
            ):
                end = as_utc(later.recorded_at)
                break
        entry: dict[str, Any] = {
            "stage": stage,
            "type": recorded.type,
            "version": recorded.version,
            "task_id": task_id,
            "department": departments.get(task_id or "") or getattr(event, "department", None),
            "role": getattr(event, "role", None) if recorded.type == "CaseDispatched" else None,
            "hop": hops.get(task_id or "") if recorded.type == "CaseDispatched" else None,
            "actor": recorded.meta.get("actor"),
            "actor_role": recorded.meta.get("role"),
            "attachment_id": getattr(event, "attachment_id", None),
            "start": start,
        }
        if opinions:
            entry["opinion"] = opinion_of(event)
            entry["actor_department"] = recorded.meta.get("department")
        if isinstance(event, ev.CaseDispatched):
            # Why the router sent it there (§8.5): the rule that matched and every rule weighed.
            entry["rule_id"] = event.rule_id
            entry["candidates"] = [c.model_dump() for c in event.candidates]
        entry.update(durations.span(start, end))
        if end is None and stage in _RESTING:
            entry.update(ongoing=False, seconds=None, working_seconds=None)
        stages.append(entry)
    received = events[0][1]
    return {
        "case_id": case_id,
        "case_no": getattr(received, "case_no", None),
        "hops": len(hops),
        "working_time": calendar is not None,
        "stages": stages,
        "holders": _holders(events, durations),
    }


def _holders(
    events: list[tuple[RecordedEvent, Any]], durations: _Durations
) -> list[dict[str, Any]]:
    """Who held the case when: the centre, or the department of the current lead task."""
    periods: list[dict[str, Any]] = []
    holder: tuple[str, str | None] | None = None  # (department or "centre", task id)
    since: datetime | None = None

    def hand_over(to: tuple[str, str | None] | None, at: datetime) -> None:
        nonlocal holder, since
        if holder is not None and since is not None and holder != to:
            periods.append(_period(holder, since, at, durations))
        if holder != to:
            holder, since = to, at

    for recorded, event in events:
        at = as_utc(recorded.recorded_at)
        task_id = getattr(event, "task_id", None)
        kind = recorded.type
        if kind in ("CaseReceived", "CaseReopened"):
            hand_over(("centre", None), at)
        elif kind == "CaseDispatched" and event.role == "lead":
            hand_over((event.department, task_id), at)
        elif kind in ("TaskReplied", "TaskReturnApproved", "TaskCancelled"):
            if holder is not None and holder[1] == task_id:
                hand_over(("centre", None), at)
        elif kind in ("CaseClosed", "CaseAnswered", "CaseMerged"):
            hand_over(None, at)
    if holder is not None and since is not None:
        periods.append(_period(holder, since, None, durations))
    return periods


def _period(
    holder: tuple[str, str | None], start: datetime, end: datetime | None, durations: _Durations
) -> dict[str, Any]:
    who, task_id = holder
    entry = {
        "holder": who,
        "kind": "centre" if task_id is None else "department",
        "task_id": task_id,
        "start": start,
    }
    entry.update(durations.span(start, end))
    return entry
