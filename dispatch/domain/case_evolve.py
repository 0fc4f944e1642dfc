"""Rebuilding a case from its stream: one small function per event type.

``evolve`` applies facts; it does not judge them (that was ``decide``'s job when they were
written), so it only refuses a stream that cannot be a case at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from dispatch.domain import events as ev
from dispatch.domain.case_state import (
    Attachment,
    Callback,
    CaseState,
    CaseStatus,
    Evaluation,
    Parking,
    PendingExtension,
    ReturnRequest,
    TaskState,
    TaskStatus,
    Urge,
    Whistle,
    derive_status,
)
from events import Event


def evolve(state: CaseState | None, event: Event, at: datetime) -> CaseState:
    """The case after ``event``, recorded at ``at``."""
    if state is None:
        if not isinstance(event, ev.CaseReceived):
            raise ValueError(f"a case stream starts with CaseReceived, not {event.type}")
        return _received(event, at)
    apply = EVOLVERS.get(type(event))
    if apply is None:
        raise ValueError(f"no evolve step for {event.type}")
    changed = apply(state, event, at)
    return replace(changed, status=derive_status(changed))


def fold(history: Iterable[tuple[Event, datetime]], *, case_id: str = "") -> CaseState | None:
    """The case rebuilt from ``(event, recorded_at)`` pairs; None for an empty stream.

    The stream id is the case id and is not repeated in ``CaseReceived``: pass it here.
    """
    state: CaseState | None = None
    for event, at in history:
        state = evolve(state, event, at)
    if state is not None and case_id:
        state = replace(state, case_id=case_id)
    return state


def _received(e: ev.CaseReceived, at: datetime) -> CaseState:
    return CaseState(
        case_id="",
        case_no=e.case_no,
        status=CaseStatus.RECEIVED,
        channel=e.channel,
        nature=e.nature,
        category=e.category,
        urgency=e.urgency,
        description=e.description,
        location=e.location,
        reporter_ref=e.reporter_ref,
        received_at=e.received_at,
    )


def _task(state: CaseState, task_id: str) -> TaskState:
    try:
        return state.tasks[task_id]
    except KeyError:
        raise ValueError(f"event names task {task_id!r}, which was never dispatched") from None


def _with_task(case: CaseState, task_id: str, /, **changes: Any) -> CaseState:
    task = replace(_task(case, task_id), **changes)
    return replace(case, tasks={**case.tasks, task_id: task})


def _answered(s: CaseState, e: ev.CaseAnswered, at: datetime) -> CaseState:
    return replace(s, answer=e.answer, answered_at=at)


def _unroutable(s: CaseState, e: ev.CaseUnroutable, at: datetime) -> CaseState:
    return replace(s, unroutable=e.reason)


def _dispatched(s: CaseState, e: ev.CaseDispatched, at: datetime) -> CaseState:
    task = TaskState(
        task_id=e.task_id,
        department=e.department,
        role=e.role,
        state=TaskStatus.DISPATCHED,
        rule_id=e.rule_id,
        catalogue_version=e.catalogue_version,
        policy=e.policy,
        warn_at=e.warn_at,
        max_extension=e.max_extension,
        calendar_version=e.calendar_version,
        deadlines=e.deadlines,
        original_reply_by=e.deadlines.reply_by,
        dispatched_at=at,
        round=s.reopen_count,
        whistle_id=e.whistle_id,
    )
    hops = s.hops + (1 if e.role == "lead" else 0)
    return replace(s, tasks={**s.tasks, e.task_id: task}, hops=hops, unroutable=None)


def _whistle_blown(s: CaseState, e: ev.WhistleBlown, at: datetime) -> CaseState:
    whistle = Whistle(e.whistle_id, e.street, tuple(e.departments), e.report_by, e.reason, at)
    return replace(s, whistles=(*s.whistles, whistle))


def _signed(s: CaseState, e: ev.TaskSigned, at: datetime) -> CaseState:
    return _with_task(s, e.task_id, state=TaskStatus.SIGNED, signed_at=at)


def _return_requested(s: CaseState, e: ev.TaskReturnRequested, at: datetime) -> CaseState:
    request = ReturnRequest(e.reason, e.basis, at)
    return _with_task(
        s,
        e.task_id,
        state=TaskStatus.RETURN_REQUESTED,
        return_request=request,
        pending_extension=None,
    )


def _return_approved(s: CaseState, e: ev.TaskReturnApproved, at: datetime) -> CaseState:
    return _with_task(s, e.task_id, state=TaskStatus.RETURNED)


def _return_rejected(s: CaseState, e: ev.TaskReturnRejected, at: datetime) -> CaseState:
    # Forced back (驳回): the task lands in the inbox unsigned and must be signed again.
    return _with_task(
        s, e.task_id, state=TaskStatus.DISPATCHED, signed_at=None, return_request=None
    )


def _cancelled(s: CaseState, e: ev.TaskCancelled, at: datetime) -> CaseState:
    return _with_task(
        s, e.task_id, state=TaskStatus.CANCELLED, cancel_reason=e.reason, pending_extension=None
    )


def _contacted(s: CaseState, e: ev.CitizenContacted, at: datetime) -> CaseState:
    return _with_task(s, e.task_id, state=TaskStatus.CONTACTED, contacted_at=at)


def _extension_requested(s: CaseState, e: ev.ExtensionRequested, at: datetime) -> CaseState:
    return _with_task(s, e.task_id, pending_extension=PendingExtension(e.reply_by, e.reason, at))


def _extension_approved(s: CaseState, e: ev.ExtensionApproved, at: datetime) -> CaseState:
    task = _task(s, e.task_id)
    return _with_task(
        s,
        e.task_id,
        deadlines=task.deadlines.model_copy(update={"reply_by": e.reply_by}),
        pending_extension=None,
        extensions_approved=task.extensions_approved + 1,
    )


def _extension_denied(s: CaseState, e: ev.ExtensionDenied, at: datetime) -> CaseState:
    return _with_task(s, e.task_id, pending_extension=None)


def _progress_noted(s: CaseState, e: ev.ProgressNoted, at: datetime) -> CaseState:
    return _with_task(s, e.task_id, last_progress_at=at)


def _evaluated(s: CaseState, e: ev.TaskEvaluated, at: datetime) -> CaseState:
    return _with_task(s, e.task_id, evaluation=Evaluation(e.street, e.rating, e.note, at))


def _replied(s: CaseState, e: ev.TaskReplied, at: datetime) -> CaseState:
    return _with_task(
        s,
        e.task_id,
        state=TaskStatus.REPLIED,
        replied_at=at,
        resolution=e.resolution,
        pending_extension=None,
    )


def _attachment_added(s: CaseState, e: ev.AttachmentAdded, at: datetime) -> CaseState:
    attachment = Attachment(
        e.attachment_id,
        e.sha256,
        e.size,
        e.media_type,
        e.stage,
        e.task_id,
        e.filename,
        e.by,
        at,
        location=e.location,
    )
    return replace(s, attachments=(*s.attachments, attachment))


def _attachment_erased(s: CaseState, e: ev.AttachmentErased, at: datetime) -> CaseState:
    kept = tuple(
        replace(a, erased_at=at) if a.attachment_id == e.attachment_id else a for a in s.attachments
    )
    return replace(s, attachments=kept)


def _sla_warning(s: CaseState, e: ev.SlaWarningRaised, at: datetime) -> CaseState:
    return replace(s, warnings=s.warnings | {(e.task_id, e.stage, e.level)})


def _urged(s: CaseState, e: ev.CaseUrged, at: datetime) -> CaseState:
    return replace(s, urges=(*s.urges, Urge(e.level, e.note, e.department, at)))


def _callback(s: CaseState, e: ev.CallbackRecorded, at: datetime) -> CaseState:
    callback = Callback(e.solved, e.satisfaction, e.note, at, round=s.reopen_count)
    return replace(s, callbacks=(*s.callbacks, callback))


def _reopened(s: CaseState, e: ev.CaseReopened, at: datetime) -> CaseState:
    return replace(
        s, reopen_count=s.reopen_count + 1, closed_at=None, answer=None, answered_at=None
    )


def _parked(s: CaseState, e: ev.CaseParked, at: datetime) -> CaseState:
    return replace(s, parking=Parking(e.plan, e.review_on, at))


def _park_review_due(s: CaseState, e: ev.CaseParkReviewDue, at: datetime) -> CaseState:
    if s.parking is None:
        return s
    return replace(s, parking=replace(s.parking, review_due=True))


def _unparked(s: CaseState, e: ev.CaseUnparked, at: datetime) -> CaseState:
    return replace(s, parking=None)


def _merged(s: CaseState, e: ev.CaseMerged, at: datetime) -> CaseState:
    return replace(s, merged_into=e.into)


def _closed(s: CaseState, e: ev.CaseClosed, at: datetime) -> CaseState:
    return replace(s, closed_at=at)


EVOLVERS: dict[type[Event], Callable[[CaseState, Any, datetime], CaseState]] = {
    ev.CaseAnswered: _answered,
    ev.CaseUnroutable: _unroutable,
    ev.CaseDispatched: _dispatched,
    ev.WhistleBlown: _whistle_blown,
    ev.TaskSigned: _signed,
    ev.TaskReturnRequested: _return_requested,
    ev.TaskReturnApproved: _return_approved,
    ev.TaskReturnRejected: _return_rejected,
    ev.TaskCancelled: _cancelled,
    ev.CitizenContacted: _contacted,
    ev.ExtensionRequested: _extension_requested,
    ev.ExtensionApproved: _extension_approved,
    ev.ExtensionDenied: _extension_denied,
    ev.ProgressNoted: _progress_noted,
    ev.TaskReplied: _replied,
    ev.TaskEvaluated: _evaluated,
    ev.AttachmentAdded: _attachment_added,
    ev.AttachmentErased: _attachment_erased,
    ev.SlaWarningRaised: _sla_warning,
    ev.CaseUrged: _urged,
    ev.CallbackRecorded: _callback,
    ev.CaseReopened: _reopened,
    ev.CaseParked: _parked,
    ev.CaseParkReviewDue: _park_review_due,
    ev.CaseUnparked: _unparked,
    ev.CaseMerged: _merged,
    ev.CaseClosed: _closed,
}
