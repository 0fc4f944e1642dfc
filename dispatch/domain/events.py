"""The case vocabulary: one frozen class per event, past tense, aggregate first.

These names and fields are a contract kept for years: projections, workers and auditors read
them. Change a shape only by adding a new ``schema_version`` and an upcaster in ``registry``.
Personal data never appears here: a reporter is referenced by ``reporter_ref``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from events import Event, EventRegistry

registry = EventRegistry()

Channel = Literal["phone", "web", "app", "wechat", "open311", "patrol", "email", "other"]
Urgency = Literal["normal", "urgent", "emergency"]
TaskRole = Literal["lead", "assist", "summoned"]
ReturnReason = Literal["territory", "remit", "ownership", "other"]
Stage = Literal["sign", "contact", "reply"]
WarningLevel = Literal["yellow", "red"]
UrgeLevel = Literal["reminder", "supervision"]
Solved = Literal["solved", "partly", "unsolved"]
Satisfaction = Literal["satisfied", "basic", "unsatisfied", "none"]
AttachmentStage = Literal["intake", "progress", "reply"]
# 诉求性质: 咨询 | 求助 | 投诉 | 举报 | 建议; a case received before it was asked is a complaint.
Nature = Literal["consult", "help", "complaint", "report", "suggestion"]
# 双考核: the street's verdict on a department it summoned (no "none": rating is the point).
Rating = Literal["satisfied", "basic", "unsatisfied"]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(Value):
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    grid: str | None = None
    street: str | None = None


class Deadlines(Value):
    sign_by: datetime
    contact_by: datetime
    reply_by: datetime
    calendar_assumed: bool = False


class RoutingCandidate(Value):
    """A routing rule the router considered, and why it did or did not match."""

    rule_id: str
    matched: bool
    reason: str


# -- intake ---------------------------------------------------------------------------------


@registry.register
class CaseReceived(Event):
    """受理: a complaint entered by an operator, a street officer, or a citizen app.

    v2 added ``nature`` (诉求性质); a v1 event reads as a complaint (投诉).
    """

    type = "CaseReceived"
    schema_version = 2
    case_no: str
    channel: Channel
    nature: Nature = "complaint"
    category: str
    description: str
    urgency: Urgency
    location: Location
    reporter_ref: str | None = None
    received_at: datetime
    # Open311 ``media_url``: a citizen's link to a picture, kept as given and never fetched.
    media_url: str | None = None


@registry.register
class CaseAnswered(Event):
    """直接答复: answered by the centre without dispatch; the case is done."""

    type = "CaseAnswered"
    answer: str


@registry.register
class CaseUnroutable(Event):
    """No routing rule matched: the case waits in the dispatchers' queue.

    v2 added ``candidates``: the routing rules the router weighed and why none would do (empty
    when no catalogue was loaded, and for every v1 event), as ``CaseDispatched`` keeps them.
    """

    type = "CaseUnroutable"
    schema_version = 2
    reason: str
    catalogue_version: int | None = None
    candidates: tuple[RoutingCandidate, ...] = ()


# -- dispatch and the departments' work ----------------------------------------------------


@registry.register
class CaseDispatched(Event):
    """派单: one task for one department, with its deadlines.

    v2 added ``candidates``: the routing rules the router weighed (empty for a dispatcher's
    manual dispatch, a whistle, a reopening, and every v1 event).
    """

    type = "CaseDispatched"
    schema_version = 2
    task_id: str
    department: str
    role: TaskRole
    rule_id: str | None = None
    catalogue_version: int | None = None
    policy: str
    warn_at: float
    max_extension: str | None = None
    deadlines: Deadlines
    calendar_version: str
    whistle_id: str | None = None
    candidates: tuple[RoutingCandidate, ...] = ()


@registry.register
class WhistleBlown(Event):
    """吹哨: a street summons departments, which must report in by ``report_by``."""

    type = "WhistleBlown"
    whistle_id: str
    street: str
    departments: list[str]
    report_by: datetime
    reason: str


@registry.register
class TaskSigned(Event):
    """签收."""

    type = "TaskSigned"
    task_id: str


@registry.register
class TaskReturnRequested(Event):
    """退单申请: the department says the task is not its own."""

    type = "TaskReturnRequested"
    task_id: str
    reason: ReturnReason
    basis: str


@registry.register
class TaskReturnApproved(Event):
    type = "TaskReturnApproved"
    task_id: str
    note: str | None = None


@registry.register
class TaskReturnRejected(Event):
    """The return is refused: the task goes back to the department (forced back)."""

    type = "TaskReturnRejected"
    task_id: str
    note: str | None = None


@registry.register
class TaskCancelled(Event):
    """A task withdrawn by the centre (merge, direct answer, manual re-dispatch)."""

    type = "TaskCancelled"
    task_id: str
    reason: str


@registry.register
class CitizenContacted(Event):
    """联系诉求人."""

    type = "CitizenContacted"
    task_id: str
    note: str


@registry.register
class ExtensionRequested(Event):
    """延期申请."""

    type = "ExtensionRequested"
    task_id: str
    reply_by: datetime
    reason: str


@registry.register
class ExtensionApproved(Event):
    type = "ExtensionApproved"
    task_id: str
    reply_by: datetime
    note: str | None = None


@registry.register
class ExtensionDenied(Event):
    type = "ExtensionDenied"
    task_id: str
    note: str | None = None


@registry.register
class ProgressNoted(Event):
    type = "ProgressNoted"
    task_id: str
    note: str


@registry.register
class TaskReplied(Event):
    """办结回复."""

    type = "TaskReplied"
    task_id: str
    resolution: str


@registry.register
class AttachmentAdded(Event):
    """随手拍 · 影像证明: a photo or document stored by its sha256 (of the bytes as stored)."""

    type = "AttachmentAdded"
    attachment_id: str
    sha256: str
    size: int
    media_type: str
    stage: AttachmentStage
    task_id: str | None = None
    filename: str | None = None
    by: str
    # Where the photo was taken, kept on purpose by staff (never left in the stored file).
    location: Location | None = None


@registry.register
class AttachmentErased(Event):
    """A stored file deleted for privacy (个人信息删除): the ``AttachmentAdded`` before it and
    its sha256 stay in the hash chain, so ``dispatch verify`` can tell erased from missing."""

    type = "AttachmentErased"
    attachment_id: str
    sha256: str
    reason: Literal["privacy"] = "privacy"


@registry.register
class SlaWarningRaised(Event):
    """预警 (yellow) or 超期 (red), raised once per (task, stage, level)."""

    type = "SlaWarningRaised"
    task_id: str
    stage: Stage
    level: WarningLevel
    deadline: datetime


# -- the centre and supervisors ------------------------------------------------------------


@registry.register
class CaseUrged(Event):
    """催办 (reminder) or 督办 (supervision)."""

    type = "CaseUrged"
    level: UrgeLevel
    note: str
    department: str | None = None


@registry.register
class CallbackRecorded(Event):
    """回访: the citizen's verdict on the resolution."""

    type = "CallbackRecorded"
    solved: Solved
    satisfaction: Satisfaction
    note: str | None = None


@registry.register
class CaseReopened(Event):
    """重办: the case goes back to the departments for new tasks."""

    type = "CaseReopened"
    reason: str


@registry.register
class CaseParked(Event):
    """挂账: cannot be solved now; a plan and a date to look again."""

    type = "CaseParked"
    plan: str
    review_on: date


@registry.register
class CaseParkReviewDue(Event):
    """挂账到期: the parked case's ``review_on`` has come; raised once per parking."""

    type = "CaseParkReviewDue"
    review_on: date


@registry.register
class CaseUnparked(Event):
    type = "CaseUnparked"
    note: str | None = None


@registry.register
class CaseMerged(Event):
    """A duplicate folded into another case."""

    type = "CaseMerged"
    into: str


@registry.register
class CaseClosed(Event):
    """结案. ``override_reason``: why it is closed although the last callback was unsolved or
    unsatisfied (v2; a v1 event had none)."""

    type = "CaseClosed"
    schema_version = 2
    note: str | None = None
    override_reason: str | None = None


# -- the street: 双考核 and 主动治理 --------------------------------------------------------


@registry.register
class TaskEvaluated(Event):
    """双考核: the street that blew the whistle rates a summoned department's replied task,
    once."""

    type = "TaskEvaluated"
    task_id: str
    street: str
    rating: Rating
    note: str | None = None


@registry.register
class HotspotDetected(Event):
    """主动治理: ``min_cases`` or more cases of one category in one grid within one window
    (``window_start`` to ``window_end``, local days, both included). Its own stream, one per
    (grid, category, window), so it is raised once however many schedulers scan."""

    type = "HotspotDetected"
    grid: str
    street: str | None = None
    category: str
    window_start: date
    window_end: date
    cases: list[str]  # case numbers, oldest first
    # The street office told (通知), from the catalogue at detection; None: the worklist only.
    office: str | None = None


# -- patrols (三巡一查零报告): one stream per grid and day, ``patrol-<grid>-<yyyymmdd>`` ---------


@registry.register
class PatrolReported(Event):
    """巡查上报: a grid's round reported; ``zero`` when nothing was found (零报告), else
    ``findings`` are the ids of the cases its findings became (channel ``patrol``)."""

    type = "PatrolReported"
    report_id: str
    grid: str
    street: str | None = None
    date: date
    round: str
    due_at: datetime
    zero: bool
    findings: list[str]
    note: str | None = None
    by: str


@registry.register
class PatrolReportMissed(Event):
    """漏巡: the round's ``by`` time passed with no report; raised once by the timer scan."""

    type = "PatrolReportMissed"
    grid: str
    street: str | None = None
    date: date
    round: str
    due_at: datetime


# -- upcasters: old payloads to the current shapes (stored rows are never rewritten) ---------


@registry.upcaster("CaseReceived", from_version=1)
def _received_as_complaint(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "nature": "complaint"}


@registry.upcaster("CaseDispatched", from_version=1)
def _dispatched_without_candidates(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "candidates": []}


@registry.upcaster("CaseUnroutable", from_version=1)
def _unroutable_without_candidates(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "candidates": []}


@registry.upcaster("CaseClosed", from_version=1)
def _closed_without_override(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "override_reason": None}
