"""How each event changes a case's KPI facts (no I/O): rows are plain dicts.

``KpiProjection`` loads the rows a batch touches, folds the batch here and writes back the
changed rows. Times are stored in UTC; the day columns are local days of the projection's
timezone, so "tasks dispatched on 11 November" means the Beijing day, not the UTC one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.catalogue.sla import warning_time  # the SLA timers' rule: alerts agree
from dispatch.domain import events as ev
from dispatch.projections.kpi_tables import CASE_OUTCOME
from events import Event, RecordedEvent, as_utc

Row = dict[str, Any]


@dataclass
class CaseFacts:
    """One case's row and its task rows, with the rows and log entries to write."""

    case: Row
    tasks: dict[str, Row] = field(default_factory=dict)
    stored: bool = False  # the case row exists in the table
    stored_tasks: set[str] = field(default_factory=set)
    dirty: bool = False
    dirty_tasks: set[str] = field(default_factory=set)
    case_log: list[Row] = field(default_factory=list)
    extensions: list[Row] = field(default_factory=list)


def blank_case(case_id: str) -> Row:
    """A case row before its ``CaseReceived`` is seen (or for a stream that lacks one)."""
    return {
        "case_id": case_id,
        "case_no": None,
        "nature": None,
        "category": None,
        "grid": None,
        "street": None,
        "received_at": None,
        "received_day": None,
        "recorded_at": None,
        "hops": 0,
        "lead_department": None,
        "excluded_at": None,
        "case_closed_at": None,
        "case_first_closed_at": None,
        "case_reopened_at": None,
        "reopen_count": 0,
        "case_parked": False,
        "callback_solved": None,
        "callback_satisfaction": None,
        "first_callback_at": None,
        "callback_at": None,
        "park_changed_at": None,
        "last_position": 0,
    }


class KpiFold:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def apply(self, facts: CaseFacts, recorded: RecordedEvent, event: Event) -> None:
        if recorded.position <= facts.case["last_position"]:
            return  # already folded: applying a batch twice changes nothing
        facts.case["last_position"] = recorded.position
        facts.dirty = True
        # Read back from the log, times are UTC already: converting them again (a million
        # times in a rebuild) costs more than the check.
        moment = recorded.recorded_at
        at = moment if moment.tzinfo is UTC else as_utc(moment)
        handler = getattr(self, f"_on_{recorded.type}", None)
        if handler is not None:
            handler(facts, recorded, event, at)

    # -- the case ------------------------------------------------------------------------

    def _on_CaseReceived(self, facts: CaseFacts, _r: RecordedEvent, e: Event, at: datetime) -> None:
        assert isinstance(e, ev.CaseReceived)
        received = as_utc(e.received_at)
        facts.case.update(
            case_no=e.case_no,
            nature=e.nature,
            category=e.category,
            grid=e.location.grid,
            street=e.location.street,
            received_at=received,
            received_day=self.day(received),
            recorded_at=at,
        )

    def _exclude(self, facts: CaseFacts, _r: RecordedEvent, _e: Event, at: datetime) -> None:
        # Merged duplicates and cases answered without dispatch are left out of every KPI.
        if facts.case["excluded_at"] is None:
            facts.case["excluded_at"] = at

    _on_CaseMerged = _exclude
    _on_CaseAnswered = _exclude

    def _on_CaseClosed(self, facts: CaseFacts, r: RecordedEvent, _e: Event, at: datetime) -> None:
        facts.case["case_closed_at"] = at
        if facts.case["case_first_closed_at"] is None:
            facts.case["case_first_closed_at"] = at
        self._log(facts, r, "closed", at)

    def _on_CaseReopened(self, facts: CaseFacts, r: RecordedEvent, _e: Event, at: datetime) -> None:
        facts.case["case_closed_at"] = None
        facts.case["reopen_count"] += 1
        if facts.case["case_reopened_at"] is None:
            facts.case["case_reopened_at"] = at
        self._log(facts, r, "reopened", at)

    def _on_CallbackRecorded(
        self, facts: CaseFacts, r: RecordedEvent, e: Event, at: datetime
    ) -> None:
        assert isinstance(e, ev.CallbackRecorded)
        # Several callbacks: the last one counts (the citizen's latest verdict).
        facts.case.update(
            callback_at=at, callback_solved=e.solved, callback_satisfaction=e.satisfaction
        )
        if facts.case["first_callback_at"] is None:
            facts.case["first_callback_at"] = at
        self._log(facts, r, "callback", at, solved=e.solved, satisfaction=e.satisfaction)

    def _on_CaseParked(self, facts: CaseFacts, r: RecordedEvent, _e: Event, at: datetime) -> None:
        # 挂账: out of the closure and timeliness denominators while parked; logged for as_of.
        facts.case.update(case_parked=True, park_changed_at=at)
        self._log(facts, r, "parked", at)

    def _on_CaseUnparked(self, facts: CaseFacts, r: RecordedEvent, _e: Event, at: datetime) -> None:
        facts.case.update(case_parked=False, park_changed_at=at)
        self._log(facts, r, "unparked", at)

    def _log(
        self, facts: CaseFacts, r: RecordedEvent, kind: str, at: datetime, **extra: Any
    ) -> None:
        row = {"position": r.position, "case_id": r.stream_id, "kind": kind, "recorded_at": at}
        row.update({"solved": None, "satisfaction": None}, **extra)
        facts.case_log.append(row)

    # -- tasks ---------------------------------------------------------------------------

    def _on_CaseDispatched(
        self, facts: CaseFacts, r: RecordedEvent, e: Event, at: datetime
    ) -> None:
        assert isinstance(e, ev.CaseDispatched)
        case = facts.case
        hop = None
        if e.role == "lead":
            case["hops"] += 1
            hop = case["hops"]
            case["lead_department"] = e.department
            for other in facts.tasks.values():
                if other["role"] == "lead" and other["superseded_at"] is None:
                    other["superseded_at"] = at
                    facts.dirty_tasks.add(other["task_id"])
        sign_by = as_utc(e.deadlines.sign_by)
        contact_by = as_utc(e.deadlines.contact_by)
        reply_by = as_utc(e.deadlines.reply_by)
        task: Row = {
            "task_id": e.task_id,
            "case_id": r.stream_id,
            "case_no": case["case_no"],
            "department": e.department,
            "role": e.role,
            "hop": hop,
            "nature": case["nature"],
            "category": case["category"],
            "grid": case["grid"],
            "street": case["street"],
            "dispatched_at": at,
            "dispatched_day": self.day(at),
            "warn_at": e.warn_at,
            "sign_by": sign_by,
            "sign_warn_at": warning_time(at, sign_by, e.warn_at),
            "signed_at": None,
            "contact_by": contact_by,
            "contact_warn_at": warning_time(at, contact_by, e.warn_at),
            "contacted_at": None,
            "original_reply_by": reply_by,
            "reply_by": reply_by,
            "reply_warn_at": warning_time(at, reply_by, e.warn_at),
            "replied_at": None,
            "returned_at": None,
            "cancelled_at": None,
            "extended_at": None,
            "street_rating": None,
            "evaluated_at": None,
            "superseded_at": None,
            "settle_at": None,  # set before the row is written (``kpi_rollup.settle_at``)
        }
        task.update({name: case[name] for name in CASE_OUTCOME})
        facts.tasks[e.task_id] = task
        facts.dirty_tasks.add(e.task_id)

    def _task(self, facts: CaseFacts, e: Event) -> Row | None:
        task = facts.tasks.get(getattr(e, "task_id", ""))
        if task is not None:
            facts.dirty_tasks.add(task["task_id"])
        return task

    def _task_moment(self, facts: CaseFacts, r: RecordedEvent, e: Event, at: datetime) -> None:
        # The first sign, contact, reply, return or cancellation is the one that counts.
        task = self._task(facts, e)
        column = TASK_MOMENTS[r.type]
        if task is None or task[column] is not None:
            return
        task[column] = at
        if column == "returned_at" and task["role"] == "lead":
            facts.case["lead_department"] = None  # the case waits for a new lead

    _on_TaskSigned = _task_moment
    _on_CitizenContacted = _task_moment
    _on_TaskReplied = _task_moment
    _on_TaskCancelled = _task_moment
    _on_TaskReturnApproved = _task_moment

    def _on_TaskEvaluated(
        self, facts: CaseFacts, _r: RecordedEvent, e: Event, at: datetime
    ) -> None:
        assert isinstance(e, ev.TaskEvaluated)
        task = self._task(facts, e)
        if task is not None and task["evaluated_at"] is None:  # rated once; the first counts
            task.update(street_rating=e.rating, evaluated_at=at)

    def _on_ExtensionApproved(
        self, facts: CaseFacts, r: RecordedEvent, e: Event, at: datetime
    ) -> None:
        assert isinstance(e, ev.ExtensionApproved)
        task = self._task(facts, e)
        if task is None:
            return
        reply_by = as_utc(e.reply_by)
        task.update(reply_by=reply_by, extended_at=at)
        task["reply_warn_at"] = warning_time(task["dispatched_at"], reply_by, task["warn_at"])
        facts.extensions.append(
            {"position": r.position, "task_id": e.task_id, "recorded_at": at, "reply_by": reply_by}
        )

    # -- after the batch -----------------------------------------------------------------

    @staticmethod
    def copy_outcome(facts: CaseFacts) -> None:
        """Copy the case's outcome onto its task rows, marking the ones that changed."""
        outcome = {name: facts.case[name] for name in CASE_OUTCOME}
        for task_id, task in facts.tasks.items():
            if any(task[name] != value for name, value in outcome.items()):
                task.update(outcome)
                facts.dirty_tasks.add(task_id)


TASK_MOMENTS = {
    "TaskSigned": "signed_at",
    "CitizenContacted": "contacted_at",
    "TaskReplied": "replied_at",
    "TaskCancelled": "cancelled_at",
    "TaskReturnApproved": "returned_at",
}

# Only these events change KPI facts; the others are skipped without being decoded.
KPI_EVENT_TYPES = frozenset(
    {
        "CaseReceived",
        "CaseMerged",
        "CaseAnswered",
        "CaseClosed",
        "CaseReopened",
        "CallbackRecorded",
        "CaseParked",
        "CaseUnparked",
        "CaseDispatched",
        "ExtensionApproved",
        "TaskEvaluated",
        *TASK_MOMENTS,
    }
)
