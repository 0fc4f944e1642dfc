"""A case (工单) and its tasks as the log has made them, and the transitions written out.

The two tables below are the rules; ``decide`` consults them and the UI shows them as buttons.
Action names are the last segment of the HTTP command paths (``/tasks/{id}/sign``,
``/tasks/{id}/return/approve``, ``/cases/{id}/park``).

Task rules (``TASK_TRANSITIONS``):

- sign (签收): dispatched → signed, once.
- return (退单申请): from dispatched or signed only; once the department has contacted the
  citizen it has taken the matter on and may extend or reply, not return. A return request
  withdraws a pending extension request. return/approve → returned; return/reject → dispatched
  (驳回, forced back): the signature is cleared and the task must be signed again.
- contact (联系诉求人): signed → contacted, once; later calls are progress notes.
- extension (延期申请): signed or contacted, one request pending at a time; the new reply_by
  must be later than the current one and than now, and not later than the caller's cap
  (``ExtensionTooLong``); approval re-checks the cap and moves reply_by; neither ruling
  changes the task's state.
- progress: signed or contacted. reply (办结): signed or contacted → replied.
- evaluation (双考核): a replied summoned task (吹哨报到), once; the state does not change. Only
  the street of its whistle may (the handler checks the street).
- cancel (the centre only, on merge or manual re-dispatch): any open task → cancelled.
- SLA warnings are timer output: one per (task, stage, level), only while the stage still runs
  (sign: dispatched; contact: dispatched/signed; reply: not yet replied) on an unparked case.
  A task awaiting a return ruling is with the dispatcher, so it is not warned. A warning that
  no longer applies yields no event rather than an error.

Case rules (``CASE_ACTIONS``; the status is derived from the tasks of the current round):

- received: no active task (none yet, or all returned/cancelled: back to the dispatcher).
  dispatched: active tasks, none signed; reopened: the same after a 重办. in_progress: some
  active task signed. replied: every active task replied.
- dispatch and whistle on any case not parked, answered, closed or merged. A department holds
  at most one open task on a case, a case at most one open lead (主办); summoned tasks come
  only from a whistle, whose id is new, report_by in the future and departments named.
  Re-dispatch (replace_open) cancels the open lead/assist tasks first, never summoned ones;
  with no assignments it recalls the case to the dispatcher.
- answered (直接答复) and unroutable (router only) from received; answer also from
  dispatched or reopened, while no task is signed: the unsigned tasks are cancelled first
  (once a task is signed: ``task_already_signed``). An answer given at intake is the same
  CaseAnswered, appended with CaseReceived, so the case is never routed.
- recall (撤回) from dispatched or reopened: the unsigned tasks are cancelled and the case is
  received again with no live task (the dispatchers' 待派单); refused once a task is signed.
- closed (结案) from replied or answered; after a callback of this round rated unsolved or
  unsatisfied only with an ``override_reason`` (else ``callback_unsatisfied``: reopen
  instead). callback (回访) while replied or answered, repeatable (the last one counts).
- parked (挂账) from dispatched, reopened, in_progress or replied; unpark restores the derived
  status. A parked case is frozen: only unpark and merge. When ``review_on`` comes the timer
  scan raises CaseParkReviewDue, once per parking (park_review_due is internal).
- reopen (重办) from replied, answered or closed: a new round of tasks; the old round's replies
  stay as history but no longer count for the status.
- merge from any case not closed, answered or merged, into a case that is neither closed,
  answered (``merge_target_closed``) nor merged (``merge_target_merged``; so no cycles):
  open tasks are cancelled first.
- urge (催办/督办) while tasks are open; a named department must hold one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from dispatch.domain.events import Deadlines, Location


class CaseStatus(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    REPLIED = "replied"
    CLOSED = "closed"
    ANSWERED = "answered"
    PARKED = "parked"
    MERGED = "merged"
    REOPENED = "reopened"


class TaskStatus(StrEnum):
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    CONTACTED = "contacted"
    RETURN_REQUESTED = "return_requested"
    RETURNED = "returned"
    REPLIED = "replied"
    CANCELLED = "cancelled"


_D, _S, _C = TaskStatus.DISPATCHED, TaskStatus.SIGNED, TaskStatus.CONTACTED
_RR, _RT, _RP, _X = (
    TaskStatus.RETURN_REQUESTED,
    TaskStatus.RETURNED,
    TaskStatus.REPLIED,
    TaskStatus.CANCELLED,
)

TASK_TRANSITIONS: dict[TaskStatus, dict[str, TaskStatus]] = {
    _D: {"sign": _S, "return": _RR, "cancel": _X},
    _S: {
        "contact": _C,
        "extension": _S,
        "extension/approve": _S,
        "extension/deny": _S,
        "progress": _S,
        "reply": _RP,
        "return": _RR,
        "cancel": _X,
    },
    _C: {
        "extension": _C,
        "extension/approve": _C,
        "extension/deny": _C,
        "progress": _C,
        "reply": _RP,
        "cancel": _X,
    },
    _RR: {"return/approve": _RT, "return/reject": _D, "cancel": _X},
    _RT: {},
    _RP: {"evaluation": _RP},
    _X: {},
}

_OPEN_WORK = ("dispatch", "merge", "park", "urge", "whistle")
_UNSIGNED_WORK = ("answer", *_OPEN_WORK, "recall")
CASE_ACTIONS: dict[CaseStatus, tuple[str, ...]] = {
    CaseStatus.RECEIVED: ("answer", "dispatch", "merge", "unroutable", "whistle"),
    CaseStatus.DISPATCHED: _UNSIGNED_WORK,
    CaseStatus.REOPENED: _UNSIGNED_WORK,
    CaseStatus.IN_PROGRESS: _OPEN_WORK,
    CaseStatus.REPLIED: ("callback", "close", "dispatch", "merge", "park", "reopen", "whistle"),
    CaseStatus.PARKED: ("merge", "park_review_due", "unpark"),
    CaseStatus.ANSWERED: ("callback", "close", "reopen"),
    CaseStatus.CLOSED: ("reopen",),
    CaseStatus.MERGED: (),
}

# Done by the centre's own machinery, never offered to a user.
INTERNAL_ACTIONS = frozenset({"cancel", "park_review_due", "unroutable"})
OPEN_TASK = frozenset({_D, _S, _C, _RR})
INACTIVE_TASK = frozenset({_RT, _X})
SIGNED_OR_LATER = frozenset({_S, _C, _RP})
_SIGNED_OR_LATER = SIGNED_OR_LATER


@dataclass(frozen=True)
class PendingExtension:
    reply_by: datetime
    reason: str
    requested_at: datetime


@dataclass(frozen=True)
class ReturnRequest:
    reason: str
    basis: str
    requested_at: datetime


@dataclass(frozen=True)
class Evaluation:
    """双考核: the summoning street's rating of the task."""

    street: str
    rating: str
    note: str | None
    at: datetime


@dataclass(frozen=True)
class TaskState:
    """One department's share of the case: 主办 (lead), 协办 (assist) or 吹哨报到 (summoned)."""

    task_id: str
    department: str
    role: str
    state: TaskStatus
    rule_id: str | None
    catalogue_version: int | None
    policy: str
    warn_at: float
    max_extension: str | None
    calendar_version: str
    deadlines: Deadlines
    original_reply_by: datetime
    dispatched_at: datetime
    round: int = 0
    whistle_id: str | None = None
    signed_at: datetime | None = None
    contacted_at: datetime | None = None
    replied_at: datetime | None = None
    resolution: str | None = None
    last_progress_at: datetime | None = None
    pending_extension: PendingExtension | None = None
    return_request: ReturnRequest | None = None
    extensions_approved: int = 0
    cancel_reason: str | None = None
    evaluation: Evaluation | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TASK

    @property
    def is_active(self) -> bool:
        return self.state not in INACTIVE_TASK


@dataclass(frozen=True)
class Urge:
    level: str
    note: str
    department: str | None
    at: datetime


@dataclass(frozen=True)
class Callback:
    solved: str
    satisfaction: str
    note: str | None
    at: datetime
    round: int = 0  # the reopen_count it judged: a 重办 answers an earlier verdict

    @property
    def unsatisfied(self) -> bool:
        return self.solved == "unsolved" or self.satisfaction == "unsatisfied"


@dataclass(frozen=True)
class Whistle:
    whistle_id: str
    street: str
    departments: tuple[str, ...]
    report_by: datetime
    reason: str
    at: datetime


@dataclass(frozen=True)
class Parking:
    plan: str
    review_on: date
    at: datetime
    review_due: bool = False  # CaseParkReviewDue was raised for this parking


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    sha256: str
    size: int
    media_type: str
    stage: str
    task_id: str | None
    filename: str | None
    by: str
    at: datetime
    erased_at: datetime | None = None
    location: Location | None = None


@dataclass(frozen=True)
class CaseState:
    case_id: str
    case_no: str
    status: CaseStatus
    channel: str
    category: str
    urgency: str
    description: str
    location: Location
    reporter_ref: str | None
    received_at: datetime
    nature: str = "complaint"
    tasks: dict[str, TaskState] = field(default_factory=dict)
    warnings: frozenset[tuple[str, str, str]] = frozenset()
    whistles: tuple[Whistle, ...] = ()
    urges: tuple[Urge, ...] = ()
    callbacks: tuple[Callback, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    reopen_count: int = 0
    parking: Parking | None = None
    merged_into: str | None = None
    answer: str | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    unroutable: str | None = None
    hops: int = 0

    @property
    def current_tasks(self) -> list[TaskState]:
        """The tasks of the latest round (a 重办 starts a new one)."""
        return [t for t in self.tasks.values() if t.round == self.reopen_count]

    @property
    def open_tasks(self) -> list[TaskState]:
        return [t for t in self.tasks.values() if t.is_open]

    @property
    def last_callback(self) -> Callback | None:
        return self.callbacks[-1] if self.callbacks else None


def derive_status(state: CaseState) -> CaseStatus:
    if state.merged_into is not None:
        return CaseStatus.MERGED
    if state.closed_at is not None:
        return CaseStatus.CLOSED
    if state.answer is not None:
        return CaseStatus.ANSWERED
    if state.parking is not None:
        return CaseStatus.PARKED
    active = [t for t in state.current_tasks if t.is_active]
    if not active:
        return CaseStatus.RECEIVED
    if all(t.state == TaskStatus.REPLIED for t in active):
        return CaseStatus.REPLIED
    if any(t.state in _SIGNED_OR_LATER for t in active):
        return CaseStatus.IN_PROGRESS
    return CaseStatus.REOPENED if state.reopen_count else CaseStatus.DISPATCHED


def allowed_task_actions(task: TaskState, case: CaseState | None = None) -> list[str]:
    """What a user may do next to this task, e.g. ``["contact", "extension", ...]``.

    Pass the ``case`` too where it is at hand: a parked case freezes all its tasks.
    """
    if case is not None and case.status == CaseStatus.PARKED:
        return []
    pending = task.pending_extension is not None
    actions = []
    for action in TASK_TRANSITIONS[task.state]:
        if action in INTERNAL_ACTIONS:
            continue
        if action == "extension" and pending:
            continue
        if action in ("extension/approve", "extension/deny") and not pending:
            continue
        if action == "evaluation" and not evaluable(task):
            continue
        actions.append(action)
    return sorted(actions)


def evaluable(task: TaskState) -> bool:
    """双考核 is for summoned tasks (吹哨报到), once each."""
    return task.role == "summoned" and getattr(task, "evaluation", None) is None


def allowed_case_actions(state: CaseState | None) -> list[str]:
    """What a user may do next to the case; ``["receive"]`` when there is no case yet."""
    if state is None:
        return ["receive"]
    return sorted(a for a in CASE_ACTIONS[state.status] if a not in INTERNAL_ACTIONS)
