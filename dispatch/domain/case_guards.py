"""The guards ``decide`` runs before yielding events, and the domain errors they raise.

Every refusal carries a stable ``code`` (one per rule), the ``facts`` to word it (case number,
department codes, dates, the action tried) and what may be done next; the English ``message``
is for logs. The words users read come from ``dispatch.domain.wording`` (DESIGN §8.3).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import NoReturn

from dispatch.domain import commands as cmd
from dispatch.domain.case_state import (
    CASE_ACTIONS,
    OPEN_TASK,
    SIGNED_OR_LATER,
    CaseState,
    CaseStatus,
    TaskState,
    TaskStatus,
    allowed_case_actions,
    allowed_task_actions,
)


def check_case_is_new(state: CaseState | None, c: cmd.ReceiveCase) -> None:
    if state is not None:
        allowed = allowed_case_actions(state)
        raise DuplicateCase(
            _refusal(f"case {c.case_id} was already received", allowed),
            allowed,
            code="case_already_received",
            facts={"case_no": state.case_no, "action": "receive"},
        )


def check_case_allows(state: CaseState, action: str) -> None:
    # The table, not allowed_case_actions: internal actions (unroutable) are legal too.
    if action not in CASE_ACTIONS[state.status]:
        code = _case_refusal_code(state, action)
        _refuse_case(state, f"cannot {action}", code=code, action=action)


def _case_refusal_code(state: CaseState, action: str) -> str:
    status = state.status
    if status == CaseStatus.CLOSED:
        return "case_closed"
    if status == CaseStatus.MERGED:
        return "case_merged"
    if status == CaseStatus.ANSWERED:
        return "case_answered"
    if status == CaseStatus.PARKED:
        return "case_parked"
    if action in ("close", "callback"):
        return "case_not_replied"
    if action == "reopen":
        return "case_not_finished"
    if action == "unpark":
        return "case_not_parked"
    if action == "answer":
        return "case_already_dispatched"
    return "case_action_not_allowed"


def check_task_known(state: CaseState, task_id: str) -> TaskState:
    task = state.tasks.get(task_id)
    if task is None:
        allowed = allowed_case_actions(state)
        message = _refusal(f"case {_name(state)} has no task {task_id}", allowed)
        facts = {"case_no": state.case_no, "task_id": task_id}
        raise UnknownTask(message, allowed, code="task_unknown", facts=facts)
    return task


def check_task_allows(state: CaseState, task_id: str, action: str) -> TaskState:
    """The task, if ``action`` is a legal next step for it on a case that is not frozen."""
    task = check_task_known(state, task_id)
    if state.status == CaseStatus.PARKED:
        _refuse_case(
            state,
            f"its task {task_id} cannot {action} until the case is unparked",
            code="case_parked",
            action=action,
            **_task_facts(task),
        )
    allowed = allowed_task_actions(task)
    if action not in allowed:
        why = f"task {task_id} is {task.state}"
        if action == "extension" and task.pending_extension is not None:
            why += " with an extension request awaiting a ruling"
        raise IllegalTransition(
            _refusal(f"{why}, so it cannot {action}", allowed),
            allowed,
            code=_task_refusal_code(task, action),
            facts={"case_no": state.case_no, "action": action, **_task_facts(task)},
        )
    return task


def _task_refusal_code(task: TaskState, action: str) -> str:
    if action == "evaluation":
        if task.role != "summoned":
            return "task_not_summoned"
        if task.evaluation is not None:
            return "task_already_evaluated"
        return "task_not_replied"
    if action == "extension" and task.pending_extension is not None:
        return "extension_pending"
    if action in ("extension/approve", "extension/deny") and task.state in (
        TaskStatus.SIGNED,
        TaskStatus.CONTACTED,
    ):
        return "no_extension_pending"
    if action in ("return/approve", "return/reject") and task.state in OPEN_TASK:
        return "no_return_pending"
    if task.state == TaskStatus.RETURN_REQUESTED:
        return "task_return_pending"
    if task.state == TaskStatus.DISPATCHED:
        return "task_not_signed"
    if task.state == TaskStatus.REPLIED:
        return "task_replied"
    if task.state == TaskStatus.RETURNED:
        return "task_returned"
    if task.state == TaskStatus.CANCELLED:
        return "task_cancelled"
    if action == "sign":
        return "task_already_signed"
    if action == "contact":
        return "citizen_already_contacted"
    if action == "return":
        return "task_return_too_late"
    return "task_action_not_allowed"


def _task_facts(task: TaskState) -> dict[str, object]:
    return {
        "task_id": task.task_id,
        "department": task.department,
        "role": task.role,
        "task_state": str(task.state),
    }


def check_assignments_present(state: CaseState, assignments: Sequence[cmd.TaskAssignment]) -> None:
    if not assignments:
        _refuse_case(state, "there is no department to dispatch to", code="no_department_named")


def check_not_summoned(state: CaseState, assignments: Sequence[cmd.TaskAssignment]) -> None:
    if any(a.role == "summoned" for a in assignments):
        _refuse_case(
            state,
            "summoned tasks (吹哨报到) come only from a whistle",
            code="summoned_only_by_whistle",
        )


def check_assignments_fit(
    state: CaseState,
    assignments: Sequence[cmd.TaskAssignment],
    leaving: Collection[str] = (),
) -> None:
    """New task ids, one open task per department, one open lead (主办) per case.

    ``leaving`` are open tasks the same command cancels first.
    """
    task_ids = set(state.tasks)
    staying = [t for t in state.open_tasks if t.task_id not in leaving]
    holders = {t.department: (t.task_id, t.role) for t in staying}
    leads = [t.department for t in staying if t.role == "lead"]
    for a in assignments:
        if a.task_id in task_ids:
            _refuse_case(
                state,
                f"task id {a.task_id} is already used on this case",
                code="task_id_taken",
                task_id=a.task_id,
            )
        if a.department in holders:
            held, role = holders[a.department]
            _refuse_case(
                state,
                f"department {a.department} already holds open task {held}",
                code=(
                    "department_already_summoned"
                    if role == "summoned"
                    else "department_already_holds_task"
                ),
                department=a.department,
                task_id=held,
            )
        if a.role == "lead":
            leads.append(a.department)
        task_ids.add(a.task_id)
        holders[a.department] = (a.task_id, a.role)
    if len(leads) > 1:
        _refuse_case(
            state,
            "a case has one lead department (主办) at a time",
            code="one_lead_only",
            departments=leads,
        )


def check_whistle_is_new(state: CaseState, whistle_id: str) -> None:
    for whistle in state.whistles:
        if whistle.whistle_id == whistle_id:
            _refuse_case(
                state,
                f"whistle {whistle_id} was already blown",
                code="whistle_already_blown",
                street=whistle.street,
                whistle_id=whistle_id,
            )


def check_whistle_names_departments(state: CaseState, c: cmd.BlowWhistle) -> None:
    unnamed = sorted({a.department for a in c.assignments} - set(c.departments))
    if unnamed:
        _refuse_case(
            state,
            f"the whistle does not name {', '.join(unnamed)}",
            code="whistle_department_unnamed",
            departments=unnamed,
        )


def check_report_by_in_future(state: CaseState, report_by: datetime, now: datetime) -> None:
    if report_by <= now:
        _refuse_case(
            state,
            f"departments cannot report by {report_by.isoformat()}, already past",
            code="report_by_past",
            report_by=report_by,
        )


def check_department_holds_open_task(state: CaseState, department: str) -> None:
    if not any(t.department == department for t in state.open_tasks):
        _refuse_case(
            state,
            f"department {department} holds no open task to urge",
            code="department_holds_no_task",
            department=department,
            action="urge",
        )


def check_not_merged_into_itself(state: CaseState, into: str) -> None:
    if into in (state.case_id, state.case_no):
        _refuse_case(state, "a case cannot be merged into itself", code="merge_into_itself")


def check_no_task_signed(state: CaseState, action: str) -> None:
    """answer / recall take back unsigned tasks only: once signed, a task is the department's
    (in_progress: some task of this round is signed; the other states have their own rules)."""
    if state.status != CaseStatus.IN_PROGRESS:
        return
    signed = sorted(
        {t.department for t in state.current_tasks if t.is_active and t.state in SIGNED_OR_LATER}
    )
    allowed = allowed_case_actions(state)
    why = (
        f"case {_name(state)} has a task signed by {', '.join(signed)}, "
        f"so the centre cannot {action} it"
    )
    raise IllegalTransition(
        _refusal(why, allowed),
        allowed,
        code="task_already_signed",
        # ``department``: the refusal names the first one that signed (``{task}``).
        facts={
            "case_no": _name(state),
            "action": action,
            "department": signed[0] if signed else None,
            "departments": signed,
        },
    )


def check_something_to_recall(state: CaseState) -> None:
    """A received case has no task out with a department: there is nothing to take back."""
    if state.status != CaseStatus.RECEIVED:
        return
    allowed = allowed_case_actions(state)
    why = f"case {_name(state)} has no task out with a department to recall"
    raise IllegalTransition(
        _refusal(why, allowed), allowed, code="nothing_to_recall", facts={"case_no": _name(state)}
    )


def check_merge_target(state: CaseState, c: cmd.MergeCase) -> None:
    """The case merged into must be open and not merged itself (so merges never loop)."""
    target = c.target
    if target is None:
        return
    if target.case_id == state.case_id:
        _refuse_case(state, "a case cannot be merged into itself", code="merge_into_itself")
    allowed = allowed_case_actions(state)
    facts = {"case_no": _name(state), "target_case_no": target.case_no, "status": target.status}
    if target.status == CaseStatus.MERGED or target.merged_into is not None:
        why = f"case {target.case_no} was itself merged into another case: merge into that one"
        raise IllegalTransition(
            _refusal(why, allowed), allowed, code="merge_target_merged", facts=facts
        )
    if target.status in (CaseStatus.CLOSED, CaseStatus.ANSWERED):
        why = f"case {target.case_no} is {target.status}: a duplicate merges into an open case"
        raise IllegalTransition(
            _refusal(why, allowed), allowed, code="merge_target_closed", facts=facts
        )


def check_callback_settled(state: CaseState, c: cmd.CloseCase) -> None:
    """回访不满意: a case whose citizen was not satisfied is reopened, or closed with a reason."""
    last = state.last_callback
    if last is None or last.round != state.reopen_count or not last.unsatisfied:
        return
    if c.override_reason:
        return
    allowed = allowed_case_actions(state)
    why = (
        f"the last callback on case {_name(state)} was {last.solved} / {last.satisfaction}: "
        "reopen it, or close it with an override_reason"
    )
    raise IllegalTransition(
        _refusal(why, allowed),
        allowed,
        code="callback_unsatisfied",
        facts={"case_no": _name(state), "solved": last.solved, "satisfaction": last.satisfaction},
    )


def check_attachment_allowed(state: CaseState, c: cmd.AddAttachment) -> None:
    """Files may be added while the case is not closed or merged; a named task must exist."""
    if state.status in (CaseStatus.CLOSED, CaseStatus.MERGED):
        _refuse_case(
            state,
            "no attachment can be added",
            code="case_closed" if state.status == CaseStatus.CLOSED else "case_merged",
            action="attachments",
        )
    if c.task_id is not None:
        check_task_known(state, c.task_id)


def check_reply_photo(state: CaseState, c: cmd.ReplyTask) -> None:
    """reply_requires_photo: the category wants a ``reply`` photo on the task before 办结."""
    if not c.requires_photo:
        return
    if any(a.stage == "reply" and a.task_id == c.task_id for a in state.attachments):
        return
    task = state.tasks[c.task_id]
    allowed = ["attachments", *allowed_task_actions(task)]
    why = (
        f"category {state.category} requires a photo to reply (reply_requires_photo): "
        f"add a reply-stage attachment for task {c.task_id} first"
    )
    facts = {"case_no": state.case_no, "category": state.category, "action": "reply"}
    raise PhotoRequired(_refusal(why, allowed), allowed, facts={**facts, **_task_facts(task)})


def check_extension_is_later(
    state: CaseState, task: TaskState, reply_by: datetime, now: datetime
) -> None:
    current = task.deadlines.reply_by
    if reply_by <= current or reply_by <= now:
        allowed = allowed_task_actions(task)
        earliest = max(current, now)
        why = (
            f"an extension must move reply_by past {earliest.isoformat()}, "
            f"not to {reply_by.isoformat()}"
        )
        facts = {"case_no": state.case_no, "reply_by": reply_by, "earliest": earliest}
        raise IllegalTransition(
            _refusal(why, allowed),
            allowed,
            code="extension_not_later",
            facts={**facts, "action": "extension", **_task_facts(task)},
        )


def check_extension_within_cap(
    state: CaseState, task: TaskState, reply_by: datetime, latest_allowed: datetime | None
) -> None:
    if latest_allowed is not None and reply_by > latest_allowed:
        allowed = allowed_task_actions(task)
        why = (
            f"reply_by {reply_by.isoformat()} is beyond the longest extension the "
            f"{task.policy} policy allows ({latest_allowed.isoformat()})"
        )
        none_allowed = latest_allowed <= task.original_reply_by
        if none_allowed:
            why += ": it allows no extension"
        facts = {"case_no": state.case_no, "reply_by": reply_by, "latest": latest_allowed}
        raise ExtensionTooLong(
            _refusal(why, allowed),
            allowed,
            code="extension_not_allowed" if none_allowed else "extension_too_long",
            facts={**facts, "policy": task.policy, "action": "extension", **_task_facts(task)},
        )


def _name(state: CaseState) -> str:
    return state.case_no or state.case_id


def _refusal(why: str, allowed: Sequence[str]) -> str:
    return f"{why}; allowed next: {', '.join(allowed) or 'nothing'}"


def _refuse_case(state: CaseState, why: str, *, code: str, **facts: object) -> NoReturn:
    allowed = allowed_case_actions(state)
    message = _refusal(f"case {_name(state)} is {state.status}, {why}", allowed)
    known = {"case_no": state.case_no, "status": str(state.status)}
    raise IllegalTransition(message, allowed, code=code, facts={**known, **facts})


# -- errors ---------------------------------------------------------------------------------


class DomainError(Exception):
    """A command the case refuses; ``allowed_next`` lists the actions that would be legal.

    ``code`` names the rule (``dispatch.domain.wording`` words it); a raise without one is
    still worded, generically, as ``not_allowed``.
    """

    code: str = "not_allowed"

    def __init__(
        self,
        message: str,
        allowed_next: list[str] | None = None,
        *,
        code: str | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.allowed_next = list(allowed_next or [])
        if code is not None:
            self.code = code
        # What a reader needs to word the refusal in their language (case number, department
        # codes, dates); the boundary turns codes into names, never shows internal ids.
        self.facts = dict(facts or {})


class IllegalTransition(DomainError):
    pass


class UnknownTask(DomainError):
    pass


class ExtensionTooLong(DomainError):
    pass


class PhotoRequired(DomainError):
    code = "photo_required"


class CaseNotReceived(DomainError):
    pass


class DuplicateCase(DomainError):
    pass
