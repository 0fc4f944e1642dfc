"""What users and jobs ask of a case: one frozen class per command, named in the imperative.

A command is a request that ``decide`` may refuse; the events it yields are the facts. Commands
carry everything the decision needs that the case itself does not know — deadlines computed
from the catalogue's SLA and calendar, the extension cap — so that the domain stays pure.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from dispatch.domain.events import (
    AttachmentStage,
    Channel,
    Deadlines,
    Location,
    Nature,
    Rating,
    ReturnReason,
    RoutingCandidate,
    Satisfaction,
    Solved,
    Stage,
    TaskRole,
    UrgeLevel,
    Urgency,
    WarningLevel,
)


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskAssignment(BaseModel):
    """One department's share of a case, with deadlines already computed by the caller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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


# -- intake ---------------------------------------------------------------------------------


class ReceiveCase(Command):
    """受理; with ``answer`` the operator answers at once (直接答复) and the case is never
    routed."""

    case_id: str
    case_no: str
    channel: Channel
    nature: Nature = "complaint"
    category: str
    description: str
    urgency: Urgency
    location: Location
    reporter_ref: str | None = None
    received_at: datetime
    answer: str | None = None
    media_url: str | None = None
    # Photos that came with the complaint, already stored: recorded in the same append.
    attachments: tuple[AddAttachment, ...] = ()


class AnswerCase(Command):
    """直接答复; while no task is signed, the unsigned tasks are cancelled first."""

    answer: str


class RecallCase(Command):
    """撤回: the centre takes back its unsigned tasks; the case waits to be dispatched again."""

    reason: str | None = None


class MarkUnroutable(Command):
    reason: str
    catalogue_version: int | None = None
    candidates: tuple[RoutingCandidate, ...] = ()


# -- dispatch -------------------------------------------------------------------------------


class DispatchCase(Command):
    """派单, by the router or by a dispatcher; ``replace_open`` withdraws the open lead and
    assist tasks first (manual re-dispatch)."""

    assignments: list[TaskAssignment]
    replace_open: bool = False


class BlowWhistle(Command):
    """吹哨: every assignment becomes a ``summoned`` task of this whistle."""

    whistle_id: str
    street: str
    departments: list[str]
    reason: str
    report_by: datetime
    assignments: list[TaskAssignment]


# -- the department's work on its task ------------------------------------------------------


class SignTask(Command):
    """签收."""

    task_id: str


class RequestReturn(Command):
    """退单申请."""

    task_id: str
    reason: ReturnReason
    basis: str


class ApproveReturn(Command):
    task_id: str
    note: str | None = None


class RejectReturn(Command):
    task_id: str
    note: str | None = None


class ContactCitizen(Command):
    """联系诉求人."""

    task_id: str
    note: str


class RequestExtension(Command):
    """延期申请; ``latest_allowed`` is the cap the caller derives from the SLA policy's
    ``max_extension`` (None: the policy sets no cap)."""

    task_id: str
    reply_by: datetime
    reason: str
    latest_allowed: datetime | None


class ApproveExtension(Command):
    task_id: str
    note: str | None = None
    latest_allowed: datetime | None = None


class DenyExtension(Command):
    task_id: str
    note: str | None = None


class NoteProgress(Command):
    task_id: str
    note: str


class ReplyTask(Command):
    """办结回复. ``requires_photo``: the category's ``reply_requires_photo`` (the catalogue's)."""

    task_id: str
    resolution: str
    requires_photo: bool = False


class EvaluateTask(Command):
    """双考核: ``street`` rates the summoned task it blew the whistle for, once replied."""

    task_id: str
    street: str
    rating: Rating
    note: str | None = None


class AddAttachment(Command):
    """随手拍 · 影像证明: a file already stored, recorded on the case."""

    attachment_id: str
    sha256: str
    size: int
    media_type: str
    stage: AttachmentStage
    task_id: str | None = None
    filename: str | None = None
    by: str
    location: Location | None = None


class EraseIntakePhotos(Command):
    """Privacy erase: the files the reporter supplied with the complaint (every ``intake``
    attachment of the case) are to be deleted; allowed in any status, closed cases too."""


class RaiseSlaWarning(Command):
    """预警 / 超期, from the SLA timer."""

    task_id: str
    stage: Stage
    level: WarningLevel


# -- the centre and supervisors ------------------------------------------------------------


class UrgeCase(Command):
    """催办 / 督办."""

    level: UrgeLevel
    note: str
    department: str | None = None


class RecordCallback(Command):
    """回访."""

    solved: Solved
    satisfaction: Satisfaction
    note: str | None = None


class ReopenCase(Command):
    """重办: new tasks with fresh deadlines computed by the caller."""

    reason: str
    assignments: list[TaskAssignment]


class ParkCase(Command):
    """挂账."""

    plan: str
    review_on: date


class RaiseParkReviewDue(Command):
    """挂账到期, from the scheduler's timer scan, for the parking that set ``review_on``."""

    review_on: date


class UnparkCase(Command):
    note: str | None = None


class MergeTarget(BaseModel):
    """What the merge needs to know of the case it folds into (the caller loads it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    case_no: str
    status: str
    merged_into: str | None = None


class MergeCase(Command):
    """并案; ``target`` is the case named by ``into`` as it stands now."""

    into: str
    target: MergeTarget | None = None


class CloseCase(Command):
    """结案; after an unsolved or unsatisfied callback only with an ``override_reason``."""

    note: str | None = None
    override_reason: str | None = None
