"""The case list's rows as plain dicts, and how each event changes them (no I/O).

``CaseListProjection`` loads the rows a batch touches, folds the batch here and writes the
changed rows back in a few set-based statements. The status derivation mirrors
``dispatch.domain.case_state.derive_status`` (the aggregate's rule) field for field; a test
folds random histories through both and compares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dispatch.domain import events as ev
from dispatch.domain.case_state import INACTIVE_TASK, OPEN_TASK, CaseStatus, TaskStatus
from events import Event, RecordedEvent

Row = dict[str, Any]

_SIGNED_OR_LATER = frozenset(
    s.value for s in (TaskStatus.SIGNED, TaskStatus.CONTACTED, TaskStatus.REPLIED)
)
_OPEN = frozenset(s.value for s in OPEN_TASK)
_INACTIVE = frozenset(s.value for s in INACTIVE_TASK)
_LEVELS = {None: 0, "yellow": 1, "red": 2}
# Each stage's step, done when this column is set (the SLA timers' stages).
_DONE = {"sign": "signed_at", "contact": "contacted_at", "reply": "replied_at"}


@dataclass
class CaseRows:
    """One case's row, its task rows and its new warnings, with what must be written."""

    case: Row
    tasks: dict[str, Row] = field(default_factory=dict)
    dirty_tasks: set[str] = field(default_factory=set)
    warnings: list[Row] = field(default_factory=list)
    caller: Row | None = None  # this case, merged into another: a row of the target's callers
    dirty: bool = False


def new_case(recorded: RecordedEvent, event: ev.CaseReceived) -> CaseRows:
    loc = event.location
    case: Row = {
        "id": recorded.stream_id,
        "case_no": event.case_no,
        "status": CaseStatus.RECEIVED.value,
        "version": recorded.version,
        "channel": event.channel,
        "nature": event.nature,
        "category": event.category,
        "urgency": event.urgency,
        "description": event.description,
        "address": loc.address,
        "lat": loc.lat,
        "lon": loc.lon,
        "grid": loc.grid,
        "street": loc.street,
        "reporter_ref": event.reporter_ref,
        "received_at": event.received_at,
        "updated_at": recorded.recorded_at,
        "lead_department": None,
        "departments": "",
        "open_tasks": 0,
        "overdue": False,
        "was_overdue": False,
        "warning_level": None,
        "hops": 0,
        "reopen_count": 0,
        "unroutable": None,
        "unroutable_candidates": None,
        "media_url": event.media_url,
        "answered_at": None,
        "parked_review_on": None,
        "park_review_due": False,
        "merged_into": None,
        "closed_at": None,
        "urge_count": 0,
        "callback_solved": None,
        "callback_satisfaction": None,
        "callback_round": None,
        "search": search_text(event.case_no, loc.address, event.description),
    }
    return CaseRows(case=case, dirty=True)


def search_text(*parts: str | None) -> str:
    """What ``q`` matches: lower-cased case number, address and description."""
    return " ".join(p for p in parts if p).lower()


def apply_event(rows: CaseRows, recorded: RecordedEvent, event: Event) -> None:
    """Fold one event of this case (already known to be newer than the row) into ``rows``;
    call ``derive`` after the last event of the batch."""
    case = rows.case
    case["version"] = recorded.version
    case["updated_at"] = recorded.recorded_at
    rows.dirty = True
    at = recorded.recorded_at
    task = _task(rows, getattr(event, "task_id", None))
    match event:
        case ev.CaseDispatched():
            _dispatch(rows, recorded, event)
        case ev.CaseUnroutable(reason=reason, candidates=candidates):
            case["unroutable"] = reason
            weighed = [c.model_dump() for c in candidates]
            case["unroutable_candidates"] = json.dumps(weighed, ensure_ascii=False)
        case ev.CaseAnswered():
            case["answered_at"] = at
        case ev.TaskSigned() if task:
            task.update(state=TaskStatus.SIGNED.value, signed_at=at)
        case ev.TaskReturnRequested(reason=reason, basis=basis) if task:
            task.update(state=TaskStatus.RETURN_REQUESTED.value, return_reason=reason)
            task.update(return_basis=basis, return_requested_at=at)
            task.update(extension_reply_by=None, extension_reason=None)
        case ev.TaskReturnApproved() if task:
            task.update(state=TaskStatus.RETURNED.value, returned_at=at)
        case ev.TaskReturnRejected() if task:
            # Forced back (驳回): the department must sign again.
            task.update(state=TaskStatus.DISPATCHED.value, signed_at=None)
            task.update(return_reason=None, return_basis=None, return_requested_at=None)
        case ev.TaskCancelled(reason=reason) if task:
            task.update(state=TaskStatus.CANCELLED.value, cancel_reason=reason)
            task.update(extension_reply_by=None, extension_reason=None)
        case ev.CitizenContacted() if task:
            task.update(state=TaskStatus.CONTACTED.value, contacted_at=at)
        case ev.ExtensionRequested(reply_by=reply_by, reason=reason) if task:
            task.update(extension_reply_by=reply_by, extension_reason=reason)
        case ev.ExtensionApproved(reply_by=reply_by) if task:
            task.update(reply_by=reply_by, extension_reply_by=None, extension_reason=None)
            if reply_by > at:  # the new deadline lies ahead: no longer late for the reply
                task["late_stages"] = _without_stage(task["late_stages"], "reply")
            task["extensions_approved"] += 1
        case ev.ExtensionDenied() if task:
            task.update(extension_reply_by=None, extension_reason=None)
        case ev.ProgressNoted() if task:
            task["last_progress_at"] = at
        case ev.TaskReplied(resolution=resolution) if task:
            task.update(state=TaskStatus.REPLIED.value, replied_at=at, resolution=resolution)
            task.update(extension_reply_by=None, extension_reason=None)
        case ev.TaskEvaluated(rating=rating, note=note) if task:
            task.update(evaluation=rating, evaluation_note=note, evaluated_at=at)
        case ev.SlaWarningRaised(stage=stage, level=level, deadline=deadline) if task:
            if _LEVELS[level] > _LEVELS[task["warning_level"]]:
                task["warning_level"] = level
            if level == "red":
                task["late_stages"] = _with_stage(task["late_stages"], stage)
                task["was_overdue"] = True
            rows.warnings.append(
                {
                    "task_id": task["id"],
                    "case_id": case["id"],
                    "department": task["department"],
                    "stage": stage,
                    "level": level,
                    "deadline": deadline,
                    "raised_at": at,
                }
            )
        case ev.CaseUrged(level=level, note=note, department=department):
            case["urge_count"] += 1
            urge = {"urged_level": level, "urged_at": at, "urged_note": note}
            _urge_tasks(rows, department, urge)
        case ev.CallbackRecorded(solved=solved, satisfaction=satisfaction):
            case.update(callback_solved=solved, callback_satisfaction=satisfaction)
            case["callback_round"] = case["reopen_count"]
        case ev.CaseReopened():
            case["reopen_count"] += 1
            case.update(answered_at=None, closed_at=None)
        case ev.CaseParked(review_on=review_on):
            case.update(parked_review_on=review_on, park_review_due=False)
        case ev.CaseParkReviewDue():
            case["park_review_due"] = True
        case ev.CaseUnparked():
            case.update(parked_review_on=None, park_review_due=False)
        case ev.CaseMerged(into=into):
            case["merged_into"] = into
            rows.caller = {
                "case_id": case["id"],
                "into": into,
                "case_no": case["case_no"],
                "channel": case["channel"],
                "received_at": case["received_at"],
                "merged_at": at,
            }
        case ev.CaseClosed():
            case["closed_at"] = at
    if task is not None:
        task["updated_at"] = at


def _urge_tasks(rows: CaseRows, department: str | None, urge: Row) -> None:
    """The urge shows on the tasks it concerns (the same rule as its delivery,
    ``dispatch.delivery.notices.addressees``): the named department's tasks, or every open
    task when it names none."""
    for task_id, task in rows.tasks.items():
        if task["department"] == department if department else task["state"] in _OPEN:
            task.update(urge)
            rows.dirty_tasks.add(task_id)


def _task(rows: CaseRows, task_id: str | None) -> Row | None:
    if task_id is None or task_id not in rows.tasks:
        return None
    rows.dirty_tasks.add(task_id)
    return rows.tasks[task_id]


def _dispatch(rows: CaseRows, recorded: RecordedEvent, event: ev.CaseDispatched) -> None:
    case = rows.case
    deadlines = event.deadlines
    rows.tasks[event.task_id] = {
        "id": event.task_id,
        "case_id": case["id"],
        "case_no": case["case_no"],
        "department": event.department,
        "role": event.role,
        "state": TaskStatus.DISPATCHED.value,
        "round": case["reopen_count"],
        "dispatched_version": recorded.version,
        "rule_id": event.rule_id,
        "whistle_id": event.whistle_id,
        "catalogue_version": event.catalogue_version,
        "policy": event.policy,
        "sign_by": deadlines.sign_by,
        "contact_by": deadlines.contact_by,
        "reply_by": deadlines.reply_by,
        "original_reply_by": deadlines.reply_by,
        "calendar_assumed": deadlines.calendar_assumed,
        "dispatched_at": recorded.recorded_at,
        "signed_at": None,
        "contacted_at": None,
        "replied_at": None,
        "resolution": None,
        "last_progress_at": None,
        "cancel_reason": None,
        "return_reason": None,
        "return_basis": None,
        "return_requested_at": None,
        "returned_at": None,
        "extension_reply_by": None,
        "extension_reason": None,
        "extensions_approved": 0,
        "warning_level": None,
        "late_stages": "",
        "overdue": False,
        "was_overdue": False,
        "urged_level": None,
        "urged_at": None,
        "urged_note": None,
        "evaluation": None,
        "evaluation_note": None,
        "evaluated_at": None,
        "delivery": "pending",
        "updated_at": recorded.recorded_at,
    }
    rows.dirty_tasks.add(event.task_id)
    case.update(unroutable=None, unroutable_candidates=None)
    if event.role == "lead":
        # Every lead dispatch is a hop: a return approved and re-dispatched makes two.
        case["hops"] += 1


def derive(rows: CaseRows) -> None:
    """Recompute the columns that summarise the tasks, and the status (once per batch)."""
    case = rows.case
    tasks = list(rows.tasks.values())
    current = [t for t in tasks if t["round"] == case["reopen_count"]]
    active = [t for t in current if t["state"] not in _INACTIVE]
    open_ = [t for t in tasks if t["state"] in _OPEN]
    case["open_tasks"] = len(open_)
    level = max((_LEVELS[t["warning_level"]] for t in open_), default=0)
    case["warning_level"] = {0: None, 1: "yellow", 2: "red"}[level]
    for task in tasks:
        task["overdue"] = task["state"] in _OPEN and bool(_late_now(task))
        task["was_overdue"] = task["was_overdue"] or task["overdue"] or _done_late(task)
    # 超期: late now — a step past its deadline (a red warning) and not yet done; signing
    # late clears it for signing. ``was_overdue`` keeps that it ever was, for history.
    case["overdue"] = any(t["overdue"] for t in open_)
    case["was_overdue"] = any(t["was_overdue"] for t in tasks)
    # A pure function of the tasks (never "whatever it was before"), so that the same events
    # give the same row however they were cut into batches.
    leads = sorted(
        (t["dispatched_version"], t["department"]) for t in active if t["role"] == "lead"
    )
    case["lead_department"] = leads[-1][1] if leads else None
    departments = sorted({t["department"] for t in active})
    case["departments"] = f",{','.join(departments)}," if departments else ""
    case["status"] = _status(case, active).value


def _late_now(task: Row) -> list[str]:
    """The stages ``task`` is late for now: warned red and their step still undone."""
    stages = [stage for stage in task["late_stages"].split(",") if stage]
    return [stage for stage in stages if task[_DONE[stage]] is None]


def _done_late(task: Row) -> bool:
    """A step done after its deadline, warned or not (the timers may have been down)."""
    return any(
        task[done] is not None and task[deadline] is not None and task[done] > task[deadline]
        for done, deadline in (
            ("signed_at", "sign_by"),
            ("contacted_at", "contact_by"),
            ("replied_at", "reply_by"),
        )
    )


def _with_stage(stages: str, stage: str) -> str:
    known = [s for s in stages.split(",") if s]
    return ",".join(sorted({*known, stage}))


def _without_stage(stages: str, stage: str) -> str:
    return ",".join(s for s in stages.split(",") if s and s != stage)


def _status(case: Row, active: list[Row]) -> CaseStatus:
    """The aggregate's ``derive_status``, on rows."""
    if case["merged_into"] is not None:
        return CaseStatus.MERGED
    if case["closed_at"] is not None:
        return CaseStatus.CLOSED
    if case["answered_at"] is not None:
        return CaseStatus.ANSWERED
    if case["parked_review_on"] is not None:
        return CaseStatus.PARKED
    if not active:
        return CaseStatus.RECEIVED
    if all(t["state"] == TaskStatus.REPLIED for t in active):
        return CaseStatus.REPLIED
    if any(t["state"] in _SIGNED_OR_LATER for t in active):
        return CaseStatus.IN_PROGRESS
    return CaseStatus.REOPENED if case["reopen_count"] else CaseStatus.DISPATCHED
