"""The commands that need more than their body: the catalogue's deadlines and cap, the
departments that replied before, the case a duplicate merges into."""

from __future__ import annotations

import uuid

from dispatch.catalogue import parse_duration, work_calendar
from dispatch.domain import commands as c
from dispatch.domain.deadlines import latest_reply_by
from dispatch.domain.events import TaskRole
from dispatch.handlers.assignments import assign
from dispatch.handlers.bodies import (
    DispatchIn,
    ExtensionIn,
    MergeIn,
    ReasonIn,
    ReplyIn,
    RulingIn,
    WhistleIn,
)
from dispatch.handlers.errors import CaseNotFound, InvalidInput, NotInScope
from dispatch.handlers.executor import load_case
from dispatch.handlers.situation import Situation


def dispatch_case(s: Situation, body: DispatchIn) -> c.DispatchCase:
    """派单: naming a lead replaces the case's open lead/assist tasks."""
    number, catalogue = s.catalogue()
    departments = [(item.code, item.role) for item in body.departments]
    assignments = assign(
        catalogue, number, s.state, departments, now=s.now, field="departments.{index}.code"
    )
    replace = any(role == "lead" for _code, role in departments)
    return c.DispatchCase(assignments=assignments, replace_open=replace)


def blow_whistle(s: Situation, body: WhistleIn) -> c.BlowWhistle:
    """吹哨: a street summons departments on a case in its own territory, to report in
    (sign) within ``report_within``."""
    street = s.issuer.actor.street
    if street is None or s.state.location.street != street:
        raise NotInScope(
            f"only the officers of street {s.state.location.street!r} may blow the "
            "whistle on this case"
        )
    number, catalogue = s.catalogue()
    report_by = s.now + parse_duration(body.report_within).clock()
    whistle_id = "w_" + uuid.uuid4().hex[:12]
    summoned: list[tuple[str, TaskRole]] = [(code, "summoned") for code in body.departments]
    assignments = assign(
        catalogue, number, s.state, summoned, now=s.now, whistle_id=whistle_id, report_by=report_by
    )
    return c.BlowWhistle(
        whistle_id=whistle_id,
        street=street,
        departments=body.departments,
        reason=body.reason,
        report_by=report_by,
        assignments=assignments,
    )


def reopen_case(s: Situation, body: ReasonIn) -> c.ReopenCase:
    """重办: fresh tasks, with fresh deadlines, for the departments that replied before."""
    number, catalogue = s.catalogue()
    previous: list[tuple[str, TaskRole]] = [
        (task.department, "lead" if task.role == "lead" else "assist")
        for task in s.state.tasks.values()
        if task.role in ("lead", "assist") and task.state == "replied"
    ]
    unique = list(dict.fromkeys(previous))
    return c.ReopenCase(
        reason=body.reason, assignments=assign(catalogue, number, s.state, unique, now=s.now)
    )


def merge_case(s: Situation, body: MergeIn) -> c.MergeCase:
    """Fold a duplicate into another case, which must exist; the domain judges whether it is
    still open (``check_merge_target``)."""
    if body.into == s.target:
        raise InvalidInput(
            "into",
            "a case cannot be merged into itself",
            code="merge_into_itself",
            facts={"case_no": s.state.case_no},
        )
    try:
        target, _version = load_case(s.deps.log, body.into)
    except CaseNotFound:
        raise InvalidInput(
            "into", f"no case with id {body.into!r}", code="merge_target_unknown"
        ) from None
    return c.MergeCase(
        into=body.into,
        target=c.MergeTarget(
            case_id=body.into,
            case_no=target.case_no,
            status=str(target.status),
            merged_into=target.merged_into,
        ),
    )


def request_extension(s: Situation, body: ExtensionIn) -> c.RequestExtension:
    """延期: the cap is the policy's ``max_extension`` past the original ``reply_by``."""
    _number, catalogue = s.catalogue()
    return c.RequestExtension(
        task_id=s.target,
        reply_by=body.reply_by,
        reason=body.reason,
        latest_allowed=latest_reply_by(s.task, work_calendar(catalogue)),
    )


def approve_extension(s: Situation, body: RulingIn) -> c.ApproveExtension:
    """Approved only within the cap, which the catalogue may have lowered meanwhile."""
    _number, catalogue = s.catalogue()
    return c.ApproveExtension(
        task_id=s.target,
        note=body.note,
        latest_allowed=latest_reply_by(s.task, work_calendar(catalogue)),
    )


def reply_task(s: Situation, body: ReplyIn) -> c.ReplyTask:
    """办结: the category's ``reply_requires_photo`` comes from the catalogue in force."""
    _number, catalogue = s.catalogue()
    category = catalogue.category(s.state.category)
    return c.ReplyTask(
        task_id=s.target,
        resolution=body.resolution,
        requires_photo=bool(category is not None and category.reply_requires_photo),
    )
