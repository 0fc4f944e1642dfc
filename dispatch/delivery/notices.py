"""What a department is told (通知), and which departments an event concerns. No I/O.

Every delivery has a ``kind``: ``task.dispatched`` (派单), ``task.cancelled`` (撤单),
``case.urged`` (催办/督办), ``task.return_ruled`` (退单审核), ``task.extension_ruled`` (延期审核),
``sla.warning`` (预警/超期) and ``hotspot.detected`` (主动治理, to the street office; not about
one case: its ``case_id`` is the hotspot's stream, ``case_no`` empty). A ``Notice`` is one
of them addressed to one department: the facts a department's system needs and one short
line of Chinese for a chat group or an SMS.
Personal data (the reporter's name and phone) never goes into a notice: chat robots and SMS
gateways are third parties.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.domain import events as ev
from dispatch.domain.case_state import CaseState, TaskState
from events import Event

TASK_DISPATCHED = "task.dispatched"
TASK_CANCELLED = "task.cancelled"
CASE_URGED = "case.urged"
TASK_RETURN_RULED = "task.return_ruled"
TASK_EXTENSION_RULED = "task.extension_ruled"
SLA_WARNING = "sla.warning"
HOTSPOT_DETECTED = "hotspot.detected"
DELIVERY_KINDS = (
    TASK_DISPATCHED,
    TASK_CANCELLED,
    CASE_URGED,
    TASK_RETURN_RULED,
    TASK_EXTENSION_RULED,
    SLA_WARNING,
    HOTSPOT_DETECTED,
)
# The events the relay turns into notices (``task.dispatched`` has its own, older job).
NOTICE_EVENTS = {
    "TaskCancelled": TASK_CANCELLED,
    "CaseUrged": CASE_URGED,
    "TaskReturnApproved": TASK_RETURN_RULED,
    "TaskReturnRejected": TASK_RETURN_RULED,
    "ExtensionApproved": TASK_EXTENSION_RULED,
    "ExtensionDenied": TASK_EXTENSION_RULED,
    "SlaWarningRaised": SLA_WARNING,
}
STAGE_NAMES = {"sign": "签收", "contact": "联系诉求人", "reply": "答复"}
URGE_NAMES = {"reminder": "催办", "supervision": "督办"}


@dataclass(frozen=True)
class Names:
    """Display names from the catalogue, and its timezone for the times in the text."""

    departments: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def department(self, code: str) -> str:
        return self.departments.get(code, code)

    def when(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%m-%d %H:%M")


@dataclass(frozen=True)
class Notice:
    kind: str
    case_id: str
    case_no: str
    department: str
    task_id: str | None
    title: str
    text: str
    what: dict[str, Any]
    deadlines: dict[str, str] | None

    def payload(self) -> dict[str, Any]:
        """The JSON body's facts (a webhook adds ``sent_at`` and ``attempt``)."""
        return {
            "kind": self.kind,
            "case_id": self.case_id,
            "case_no": self.case_no,
            "task_id": self.task_id,
            "department": self.department,
            "title": self.title,
            "text": self.text,
            "what": self.what,
            "deadlines": self.deadlines,
        }


def addressees(state: CaseState, event: Event) -> list[tuple[str, str | None]]:
    """``(department, task id)`` for each department ``event`` concerns, given the case as it
    stood just after it: an urge naming a department goes to it; an urge naming none to
    every department holding an open task; anything about a task to the task's department."""
    if isinstance(event, ev.CaseUrged):
        if event.department is not None:
            return [(event.department, _task_of(state, event.department))]
        found: dict[str, str] = {}
        for task in state.tasks.values():
            if task.is_open:
                found[task.department] = task.task_id
        return sorted(found.items())
    task_id = getattr(event, "task_id", None)
    about = state.tasks.get(task_id) if isinstance(task_id, str) else None
    return [] if about is None else [(about.department, about.task_id)]


def _task_of(state: CaseState, department: str) -> str | None:
    """The department's most recent task on the case, open ones first."""
    mine = [t for t in state.tasks.values() if t.department == department]
    mine.sort(key=lambda t: (t.is_open, t.dispatched_at))
    return mine[-1].task_id if mine else None


def dispatched_notice(state: CaseState, task: TaskState, names: Names) -> Notice:
    category = names.categories.get(state.category, state.category)
    deadlines = task.deadlines
    where = state.location.address or state.location.grid or ""
    text = (
        f"【12345派单】工单{state.case_no}（{category}{'，' + where if where else ''}）"
        f"已派{names.department(task.department)}，请于{names.when(deadlines.sign_by)}前签收，"
        f"{names.when(deadlines.reply_by)}前答复。"
    )
    return _notice(
        TASK_DISPATCHED,
        state,
        task.department,
        task,
        title=f"12345派单 {state.case_no}",
        text=text,
        what={"role": task.role, "category": state.category, "urgency": state.urgency},
    )


def notice_for(state: CaseState, event: Event, department: str, names: Names) -> Notice | None:
    """The notice ``event`` gives ``department``; ``state`` is the case just after it."""
    kind = NOTICE_EVENTS.get(event.type)
    if kind is None:
        return None
    task_id = dict(addressees(state, event)).get(department, getattr(event, "task_id", None))
    task = state.tasks.get(task_id) if task_id else None
    no = state.case_no
    match event:
        case ev.CaseUrged(level=level, note=note):
            word = URGE_NAMES.get(level, "催办")
            due = f"，请于{names.when(task.deadlines.reply_by)}前答复" if task else ""
            who = names.department(department)
            text = f"【12345{word}】工单{no}：{note}。请{who}抓紧办理{due}。"
            what: dict[str, Any] = {"level": level, "note": note}
        case ev.TaskCancelled(reason=reason):
            who = names.department(department)
            text = f"【12345撤单】工单{no}派给{who}的任务已撤回（{reason}），无需继续办理。"
            what = {"reason": reason}
        case ev.TaskReturnApproved(note=note):
            text = f"【12345退单审核】工单{no}的退单申请已通过，本任务结束。"
            what = {"decision": "approved", "note": note}
        case ev.TaskReturnRejected(note=note):
            why = f"（{note}）" if note else ""
            text = f"【12345退单审核】工单{no}的退单申请被驳回{why}，请重新签收并办理。"
            what = {"decision": "rejected", "note": note}
        case ev.ExtensionApproved(reply_by=reply_by, note=note):
            text = f"【12345延期审核】工单{no}延期已批准，答复期限改为{names.when(reply_by)}。"
            what = {"decision": "approved", "note": note, "reply_by": reply_by.isoformat()}
        case ev.ExtensionDenied(note=note):
            due = f"，答复期限仍为{names.when(task.deadlines.reply_by)}" if task else ""
            text = f"【12345延期审核】工单{no}延期申请未获批准{due}。"
            what = {"decision": "denied", "note": note}
        case ev.SlaWarningRaised(stage=stage, level=level, deadline=deadline):
            stage_name = STAGE_NAMES.get(stage, stage)
            due = names.when(deadline)
            if level == "red":
                text = f"【12345超期】工单{no}已超过{stage_name}期限（{due}）。"
            else:
                text = f"【12345预警】工单{no}即将超过{stage_name}期限（{due}），请尽快处理。"
            what = {"stage": stage, "level": level, "deadline": deadline.isoformat()}
        case _:
            return None
    title = text[1 : text.index("】")] + f" {no}"
    return _notice(kind, state, department, task, title=title, text=text, what=what)


def hotspot_notice(stream_id: str, event: ev.HotspotDetected, names: Names) -> Notice | None:
    """主动治理: the street office hears of repeated complaints in one of its grids."""
    if event.office is None:
        return None
    category = names.categories.get(event.category, event.category)
    days = f"{event.window_start:%m-%d}至{event.window_end:%m-%d}"
    text = (
        f"【12345主动治理】{days}网格{event.grid}收到{len(event.cases)}件{category}诉求"
        f"（{'、'.join(event.cases)}），请街道提前研判、主动处置。"
    )
    return Notice(
        kind=HOTSPOT_DETECTED,
        case_id=stream_id,
        case_no="",
        department=event.office,
        task_id=None,
        title=f"12345主动治理 {event.grid} {category}",
        text=text,
        what={
            "grid": event.grid,
            "street": event.street,
            "category": event.category,
            "window_start": event.window_start.isoformat(),
            "window_end": event.window_end.isoformat(),
            "count": len(event.cases),
            "cases": list(event.cases),
        },
        deadlines=None,
    )


def _notice(
    kind: str,
    state: CaseState,
    department: str,
    task: TaskState | None,
    *,
    title: str,
    text: str,
    what: dict[str, Any],
) -> Notice:
    deadlines = None
    if task is not None:
        deadlines = {
            "sign_by": task.deadlines.sign_by.isoformat(),
            "contact_by": task.deadlines.contact_by.isoformat(),
            "reply_by": task.deadlines.reply_by.isoformat(),
        }
    return Notice(
        kind=kind,
        case_id=state.case_id,
        case_no=state.case_no,
        department=department,
        task_id=task.task_id if task is not None else None,
        title=title,
        text=text,
        what=what,
        deadlines=deadlines,
    )
