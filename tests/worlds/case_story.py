"""Write a case's history straight into the log, one event at a time, at chosen times.

The KPI, alert and timeline tests need histories with exact timings (a sign 1 minute late),
which the handlers would refuse to backdate; the store's ``now=`` lets us record them as if
they happened then.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from dispatch.domain import events as ev
from events import Event, EventStore, Meta

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


class CaseStory:
    def __init__(
        self,
        store: EventStore,
        *,
        category: str,
        grid: str | None = None,
        street: str | None = None,
        case_id: str | None = None,
    ) -> None:
        self.store = store
        self.case_id = case_id or f"case-{uuid.uuid4().hex[:12]}"
        self.case_no = f"NO-{uuid.uuid4().hex[:8]}"
        self.category, self.grid, self.street = category, grid, street
        self.version = 0

    def _append(
        self, event: Event, at: datetime, actor: str = "op-1", role: str = "operator"
    ) -> None:
        meta = Meta(actor=actor, role=role, command_id=uuid.uuid4().hex)
        self.store.append(self.case_id, [event], expected_version=self.version, meta=meta, now=at)
        self.version += 1

    def received(
        self, at: datetime, *, reporter_ref: str | None = None, address: str = "西一路 1 号"
    ) -> CaseStory:
        location = ev.Location(address=address, grid=self.grid, street=self.street)
        event = ev.CaseReceived(
            case_no=self.case_no,
            channel="phone",
            category=self.category,
            description="路灯不亮",
            urgency="normal",
            location=location,
            reporter_ref=reporter_ref,
            received_at=at.astimezone(UTC),  # as intake records it: the clock's UTC time
        )
        self._append(event, at)
        return self

    def dispatched(
        self,
        at: datetime,
        department: str,
        *,
        role: str = "lead",
        sign: timedelta = 2 * HOUR,
        contact: timedelta = 4 * HOUR,
        reply: timedelta = 48 * HOUR,
        warn_at: float = 0.8,
    ) -> str:
        task_id = f"task-{uuid.uuid4().hex[:12]}"
        deadlines = ev.Deadlines(sign_by=at + sign, contact_by=at + contact, reply_by=at + reply)
        event = ev.CaseDispatched(
            task_id=task_id,
            department=department,
            role=role,  # type: ignore[arg-type]
            policy="general",
            warn_at=warn_at,
            deadlines=deadlines,
            calendar_version="test",
        )
        self._append(event, at, actor="router", role="system")
        return task_id

    def signed(self, at: datetime, task_id: str) -> None:
        self._append(ev.TaskSigned(task_id=task_id), at, actor="liaison-1", role="liaison")

    def contacted(self, at: datetime, task_id: str) -> None:
        event = ev.CitizenContacted(task_id=task_id, note="电话联系")
        self._append(event, at, actor="liaison-1", role="liaison")

    def replied(self, at: datetime, task_id: str) -> None:
        event = ev.TaskReplied(task_id=task_id, resolution="已修复")
        self._append(event, at, actor="liaison-1", role="liaison")

    def evaluated(self, at: datetime, task_id: str, rating: str, street: str = "XYL") -> None:
        """双考核: the summoning street rates the task."""
        event = ev.TaskEvaluated(task_id=task_id, street=street, rating=rating)  # type: ignore[arg-type]
        self._append(event, at, actor="street-1", role="street")

    def return_requested(self, at: datetime, task_id: str) -> None:
        event = ev.TaskReturnRequested(task_id=task_id, reason="territory", basis="不在辖区")
        self._append(event, at, actor="liaison-1", role="liaison")

    def return_approved(self, at: datetime, task_id: str) -> None:
        self._append(ev.TaskReturnApproved(task_id=task_id), at, actor="disp-1", role="dispatcher")

    def extension_approved(self, at: datetime, task_id: str, reply_by: datetime) -> None:
        event = ev.ExtensionApproved(task_id=task_id, reply_by=reply_by)
        self._append(event, at, actor="disp-1", role="dispatcher")

    def cancelled(self, at: datetime, task_id: str) -> None:
        event = ev.TaskCancelled(task_id=task_id, reason="manual redispatch")
        self._append(event, at, actor="disp-1", role="dispatcher")

    def callback(self, at: datetime, solved: str, satisfaction: str) -> None:
        event = ev.CallbackRecorded(solved=solved, satisfaction=satisfaction)  # type: ignore[arg-type]
        self._append(event, at)

    def closed(self, at: datetime) -> None:
        self._append(ev.CaseClosed(), at, actor="disp-1", role="dispatcher")

    def reopened(self, at: datetime) -> None:
        self._append(ev.CaseReopened(reason="群众不满意"), at, actor="disp-1", role="dispatcher")

    def merged(self, at: datetime, into: str = "case-other") -> None:
        self._append(ev.CaseMerged(into=into), at, actor="disp-1", role="dispatcher")

    def answered(self, at: datetime) -> None:
        self._append(ev.CaseAnswered(answer="已答复"), at)

    def parked(self, at: datetime) -> None:
        plan = ev.CaseParked(plan="纳入明年计划", review_on=(at + 30 * 24 * HOUR).date())
        self._append(plan, at, actor="disp-1", role="dispatcher")


def take_step(
    story: CaseStory,
    rng: random.Random,
    step: str,
    at: datetime,
    task: str,
    *,
    tasks: list[str],
    summoned: list[str],
    departments: Sequence[str],
) -> None:
    """One step of a random history (the KPI property tests): ``task`` is the case's task it
    concerns; a new lead joins ``tasks``, a summoned department's task ``summoned``."""
    if step == "sign":
        story.signed(at, task)
    elif step == "contact":
        story.contacted(at, task)
    elif step == "reply":
        story.replied(at, rng.choice(summoned) if summoned and rng.random() < 0.5 else task)
    elif step == "return":
        story.return_approved(at, task)
    elif step == "extend":
        story.extension_approved(at, task, reply_by=at + timedelta(days=rng.randrange(1, 9)))
    elif step == "callback":
        solved = rng.choice(["solved", "partly", "unsolved"])
        story.callback(at, solved, rng.choice(["satisfied", "basic", "unsatisfied", "none"]))
    elif step == "close":
        story.closed(at)
    elif step == "reopen":
        story.reopened(at)
    elif step == "cancel":
        story.cancelled(at, task)
    elif step == "park":
        story.parked(at)
    elif step == "unpark":
        story._append(ev.CaseUnparked(), at, actor="disp-1", role="dispatcher")
    elif step == "merge":
        story.merged(at)
    elif step == "summon":
        summoned.append(story.dispatched(at, rng.choice(departments), role="summoned"))
    elif step == "evaluate":
        if summoned:
            story.evaluated(at, rng.choice(summoned), rng.choice(["satisfied", "unsatisfied"]))
    elif step == "lead":
        tasks.append(story.dispatched(at, rng.choice(departments)))
    else:
        raise ValueError(f"no step {step!r}")
