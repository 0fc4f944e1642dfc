"""Deciding what a command does to a case: pure functions of (state, command, now) → events.

The rules themselves are the tables in ``case_state``; the guards here (``check_<rule>``)
apply them and refuse with a domain error that says what is allowed next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dispatch.domain import commands as cmd
from dispatch.domain import events as ev
from dispatch.domain.case_guards import (
    CaseNotReceived,
    check_assignments_fit,
    check_assignments_present,
    check_attachment_allowed,
    check_callback_settled,
    check_case_allows,
    check_case_is_new,
    check_department_holds_open_task,
    check_extension_is_later,
    check_extension_within_cap,
    check_merge_target,
    check_no_task_signed,
    check_not_merged_into_itself,
    check_not_summoned,
    check_reply_photo,
    check_report_by_in_future,
    check_something_to_recall,
    check_task_allows,
    check_task_known,
    check_whistle_is_new,
    check_whistle_names_departments,
)
from dispatch.domain.case_state import CaseState, CaseStatus, TaskStatus
from events import Event


def decide(state: CaseState | None, command: cmd.Command, now: datetime) -> list[Event]:
    """The events ``command`` yields on ``state`` at ``now``; raises ``DomainError`` if illegal."""
    if state is None and not isinstance(command, cmd.ReceiveCase):
        raise CaseNotReceived(
            "no such case; allowed next: receive", ["receive"], code="case_not_received"
        )
    return DECISIONS[type(command)](state, command, now)


# -- intake ---------------------------------------------------------------------------------


def receive_case(state: CaseState | None, c: cmd.ReceiveCase, now: datetime) -> list[Event]:
    check_case_is_new(state, c)
    # The case id is the stream id, so it is not repeated in the event.
    received = ev.CaseReceived(
        case_no=c.case_no,
        channel=c.channel,
        nature=c.nature,
        category=c.category,
        description=c.description,
        urgency=c.urgency,
        location=c.location,
        reporter_ref=c.reporter_ref,
        received_at=c.received_at,
        media_url=c.media_url,
    )
    # 直接答复 at intake: answered in the same append, so no router ever sees it unanswered.
    answered = [ev.CaseAnswered(answer=c.answer)] if c.answer else []
    return [received, *(attachment_added(a) for a in c.attachments), *answered]


def answer_case(state: CaseState, c: cmd.AnswerCase, now: datetime) -> list[Event]:
    check_no_task_signed(state, "answer")
    check_case_allows(state, "answer")
    return [*_take_back(state, "answered by the centre"), ev.CaseAnswered(answer=c.answer)]


def recall_case(state: CaseState, c: cmd.RecallCase, now: datetime) -> list[Event]:
    check_no_task_signed(state, "recall")
    check_something_to_recall(state)
    check_case_allows(state, "recall")
    reason = f"recalled: {c.reason}" if c.reason else "recalled"
    return _take_back(state, reason)


def _take_back(state: CaseState, reason: str) -> list[Event]:
    """Cancel every open task (none is signed: ``check_no_task_signed`` came first)."""
    return [ev.TaskCancelled(task_id=t.task_id, reason=reason) for t in state.open_tasks]


def mark_unroutable(state: CaseState, c: cmd.MarkUnroutable, now: datetime) -> list[Event]:
    check_case_allows(state, "unroutable")
    return [
        ev.CaseUnroutable(
            reason=c.reason, catalogue_version=c.catalogue_version, candidates=c.candidates
        )
    ]


# -- dispatch -------------------------------------------------------------------------------


def dispatch_case(state: CaseState, c: cmd.DispatchCase, now: datetime) -> list[Event]:
    check_case_allows(state, "dispatch")
    replaced = [t for t in state.open_tasks if t.role != "summoned"] if c.replace_open else []
    if not replaced:
        check_assignments_present(state, c.assignments)
    check_not_summoned(state, c.assignments)
    check_assignments_fit(state, c.assignments, leaving={t.task_id for t in replaced})
    cancelled: list[Event] = [
        ev.TaskCancelled(task_id=t.task_id, reason="re-dispatched") for t in replaced
    ]
    return cancelled + [_dispatched(a) for a in c.assignments]


def blow_whistle(state: CaseState, c: cmd.BlowWhistle, now: datetime) -> list[Event]:
    check_case_allows(state, "whistle")
    check_assignments_present(state, c.assignments)
    check_whistle_is_new(state, c.whistle_id)
    check_report_by_in_future(state, c.report_by, now)
    check_whistle_names_departments(state, c)
    summoned = [
        a.model_copy(update={"role": "summoned", "whistle_id": c.whistle_id}) for a in c.assignments
    ]
    check_assignments_fit(state, summoned)
    whistle = ev.WhistleBlown(
        whistle_id=c.whistle_id,
        street=c.street,
        departments=c.departments,
        report_by=c.report_by,
        reason=c.reason,
    )
    return [whistle, *(_dispatched(a) for a in summoned)]


def _dispatched(a: cmd.TaskAssignment) -> ev.CaseDispatched:
    # A TaskAssignment is the CaseDispatched payload to be: same fields, same names.
    return ev.CaseDispatched(**dict(a))


# -- the department's work on its task ------------------------------------------------------


def sign_task(state: CaseState, c: cmd.SignTask, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "sign")
    return [ev.TaskSigned(task_id=c.task_id)]


def request_return(state: CaseState, c: cmd.RequestReturn, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "return")
    return [ev.TaskReturnRequested(task_id=c.task_id, reason=c.reason, basis=c.basis)]


def approve_return(state: CaseState, c: cmd.ApproveReturn, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "return/approve")
    return [ev.TaskReturnApproved(task_id=c.task_id, note=c.note)]


def reject_return(state: CaseState, c: cmd.RejectReturn, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "return/reject")
    return [ev.TaskReturnRejected(task_id=c.task_id, note=c.note)]


def contact_citizen(state: CaseState, c: cmd.ContactCitizen, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "contact")
    return [ev.CitizenContacted(task_id=c.task_id, note=c.note)]


def request_extension(state: CaseState, c: cmd.RequestExtension, now: datetime) -> list[Event]:
    task = check_task_allows(state, c.task_id, "extension")
    check_extension_is_later(state, task, c.reply_by, now)
    check_extension_within_cap(state, task, c.reply_by, c.latest_allowed)
    return [ev.ExtensionRequested(task_id=c.task_id, reply_by=c.reply_by, reason=c.reason)]


def approve_extension(state: CaseState, c: cmd.ApproveExtension, now: datetime) -> list[Event]:
    task = check_task_allows(state, c.task_id, "extension/approve")
    assert task.pending_extension is not None  # the transition table offers approve only then
    reply_by = task.pending_extension.reply_by
    check_extension_within_cap(state, task, reply_by, c.latest_allowed)
    return [ev.ExtensionApproved(task_id=c.task_id, reply_by=reply_by, note=c.note)]


def deny_extension(state: CaseState, c: cmd.DenyExtension, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "extension/deny")
    return [ev.ExtensionDenied(task_id=c.task_id, note=c.note)]


def note_progress(state: CaseState, c: cmd.NoteProgress, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "progress")
    return [ev.ProgressNoted(task_id=c.task_id, note=c.note)]


def reply_task(state: CaseState, c: cmd.ReplyTask, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "reply")
    check_reply_photo(state, c)
    return [ev.TaskReplied(task_id=c.task_id, resolution=c.resolution)]


def evaluate_task(state: CaseState, c: cmd.EvaluateTask, now: datetime) -> list[Event]:
    check_task_allows(state, c.task_id, "evaluation")
    return [ev.TaskEvaluated(task_id=c.task_id, street=c.street, rating=c.rating, note=c.note)]


def add_attachment(state: CaseState, c: cmd.AddAttachment, now: datetime) -> list[Event]:
    check_attachment_allowed(state, c)
    return [attachment_added(c)]


def attachment_added(c: cmd.AddAttachment) -> ev.AttachmentAdded:
    return ev.AttachmentAdded(
        attachment_id=c.attachment_id,
        sha256=c.sha256,
        size=c.size,
        media_type=c.media_type,
        stage=c.stage,
        task_id=c.task_id,
        filename=c.filename,
        by=c.by,
        location=c.location,
    )


def erase_intake_photos(state: CaseState, c: cmd.EraseIntakePhotos, now: datetime) -> list[Event]:
    """Only what is not erased yet: running the erase again appends nothing."""
    return [
        ev.AttachmentErased(attachment_id=a.attachment_id, sha256=a.sha256)
        for a in state.attachments
        if a.stage == "intake" and a.erased_at is None
    ]


# A stage is still running while the task has not passed it. A task awaiting a return ruling
# is with the dispatcher, not the department, so nothing warns about it.
_STAGE_OPEN: dict[str, frozenset[TaskStatus]] = {
    "sign": frozenset({TaskStatus.DISPATCHED}),
    "contact": frozenset({TaskStatus.DISPATCHED, TaskStatus.SIGNED}),
    "reply": frozenset({TaskStatus.DISPATCHED, TaskStatus.SIGNED, TaskStatus.CONTACTED}),
}


def raise_sla_warning(state: CaseState, c: cmd.RaiseSlaWarning, now: datetime) -> list[Event]:
    # Timers race with the departments: a warning that no longer applies is dropped, not refused.
    task = check_task_known(state, c.task_id)
    if (c.task_id, c.stage, c.level) in state.warnings:
        return []
    if state.status == CaseStatus.PARKED or task.state not in _STAGE_OPEN[c.stage]:
        return []
    deadline = getattr(task.deadlines, f"{c.stage}_by")
    return [ev.SlaWarningRaised(task_id=c.task_id, stage=c.stage, level=c.level, deadline=deadline)]


# -- the centre and supervisors ------------------------------------------------------------


def urge_case(state: CaseState, c: cmd.UrgeCase, now: datetime) -> list[Event]:
    check_case_allows(state, "urge")
    if c.department is not None:
        check_department_holds_open_task(state, c.department)
    return [ev.CaseUrged(level=c.level, note=c.note, department=c.department)]


def record_callback(state: CaseState, c: cmd.RecordCallback, now: datetime) -> list[Event]:
    check_case_allows(state, "callback")
    return [ev.CallbackRecorded(solved=c.solved, satisfaction=c.satisfaction, note=c.note)]


def reopen_case(state: CaseState, c: cmd.ReopenCase, now: datetime) -> list[Event]:
    check_case_allows(state, "reopen")
    check_not_summoned(state, c.assignments)
    check_assignments_fit(state, c.assignments)
    return [ev.CaseReopened(reason=c.reason), *(_dispatched(a) for a in c.assignments)]


def park_case(state: CaseState, c: cmd.ParkCase, now: datetime) -> list[Event]:
    check_case_allows(state, "park")
    return [ev.CaseParked(plan=c.plan, review_on=c.review_on)]


def raise_park_review_due(
    state: CaseState, c: cmd.RaiseParkReviewDue, now: datetime
) -> list[Event]:
    # Timer output, like SLA warnings: once per parking, and nothing for a stale timer (the
    # case was unparked, or parked again with another date).
    parking = state.parking
    if state.status != CaseStatus.PARKED or parking is None:
        return []
    if parking.review_due or parking.review_on != c.review_on:
        return []
    return [ev.CaseParkReviewDue(review_on=c.review_on)]


def unpark_case(state: CaseState, c: cmd.UnparkCase, now: datetime) -> list[Event]:
    check_case_allows(state, "unpark")
    return [ev.CaseUnparked(note=c.note)]


def merge_case(state: CaseState, c: cmd.MergeCase, now: datetime) -> list[Event]:
    check_case_allows(state, "merge")
    check_not_merged_into_itself(state, c.into)
    check_merge_target(state, c)
    reason = f"merged into {c.into}"
    cancelled: list[Event] = [
        ev.TaskCancelled(task_id=t.task_id, reason=reason) for t in state.open_tasks
    ]
    return [*cancelled, ev.CaseMerged(into=c.into)]


def close_case(state: CaseState, c: cmd.CloseCase, now: datetime) -> list[Event]:
    check_case_allows(state, "close")
    check_callback_settled(state, c)
    return [ev.CaseClosed(note=c.note, override_reason=c.override_reason)]


DECISIONS: dict[type[cmd.Command], Callable[[Any, Any, datetime], list[Event]]] = {
    cmd.ReceiveCase: receive_case,
    cmd.AnswerCase: answer_case,
    cmd.RecallCase: recall_case,
    cmd.MarkUnroutable: mark_unroutable,
    cmd.DispatchCase: dispatch_case,
    cmd.BlowWhistle: blow_whistle,
    cmd.SignTask: sign_task,
    cmd.RequestReturn: request_return,
    cmd.ApproveReturn: approve_return,
    cmd.RejectReturn: reject_return,
    cmd.ContactCitizen: contact_citizen,
    cmd.RequestExtension: request_extension,
    cmd.ApproveExtension: approve_extension,
    cmd.DenyExtension: deny_extension,
    cmd.NoteProgress: note_progress,
    cmd.ReplyTask: reply_task,
    cmd.EvaluateTask: evaluate_task,
    cmd.AddAttachment: add_attachment,
    cmd.EraseIntakePhotos: erase_intake_photos,
    cmd.RaiseSlaWarning: raise_sla_warning,
    cmd.UrgeCase: urge_case,
    cmd.RecordCallback: record_callback,
    cmd.ReopenCase: reopen_case,
    cmd.ParkCase: park_case,
    cmd.RaiseParkReviewDue: raise_park_review_due,
    cmd.UnparkCase: unpark_case,
    cmd.MergeCase: merge_case,
    cmd.CloseCase: close_case,
}
