"""Delivering to departments (送达): a task's dispatch, and every notice that concerns them.

``deliver`` takes a dispatched task to its department: the built-in inbox, or out through
the department's channel (``workers.senders``: signed webhook, 企业微信 or 钉钉 robot, SMS
gateway). ``deliver_notice`` does the same for an urge, a ruling, a cancellation or an SLA
warning (``dispatch.delivery.notices``); an inbox department reads those on its task. A
hotspot (主动治理) is told to the street office its ``HotspotDetected`` names.

Each attempt first claims the delivery's row with a lease (``dispatch.delivery.state``), so
two copies of the job never send at once and a delivered one is never sent again. A failed
attempt is retried with exponential back-off; after the last one the delivery is ``failed``
and a dead letter waits for a dispatcher to replay it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue, Delivery
from dispatch.delivery.notice_state import notice_deliveries, notice_id, record_inbox_notice
from dispatch.delivery.notices import (
    Names,
    Notice,
    dispatched_notice,
    hotspot_notice,
    notice_for,
)
from dispatch.delivery.queues import (
    DELIVER_NOTICE,
    DELIVER_TASK,
    JobSpec,
    deliver_notice_job,
    deliver_task_job,
)
from dispatch.delivery.state import (
    INBOX,
    Busy,
    Claim,
    claim_delivery,
    record_delivered,
    record_failed_attempt,
    record_inbox_delivery,
)
from dispatch.domain.case_evolve import fold
from dispatch.domain.case_state import CaseState, TaskState
from dispatch.domain.events import HotspotDetected, registry
from dispatch.domain.ids import case_id_of
from dispatch.handlers import CaseNotFound
from dispatch.handlers.executor import load_case
from workers.senders import SendFailed, send, sign, verify

__all__ = ["Outcome", "deliver", "deliver_notice", "sign", "verify", "webhook_body"]

# Our own attempt counter decides when to give up; RQ's cap only guards against a bug.
MAX_RQ_RETRIES = 1000


@dataclass(frozen=True)
class Outcome:
    """``delivered`` · ``already`` (settled before) · ``retrying`` · ``dead_letter`` ·
    ``unknown`` (no such task); ``retry_in`` asks RQ to run the job again after that many s."""

    state: str
    retry_in: int | None = None


def deliver(container: Container, task_id: str, *, department: str | None = None) -> Outcome:
    """Deliver ``task_id``; ``department`` is the one whose queue the job came from.

    The relay records inbox deliveries itself; a job for a department on the built-in inbox
    comes from the reconciler or a replay, and needs nothing from the case either: the task is
    recorded as delivered straight away (its ``CaseDispatched`` was relayed), which spares it a
    read and a fold of the case's whole history. The case is
    read when the department is not known or hears through another channel.
    """
    now = container.clock()
    if department is None or _delivery_of(container, department).type != INBOX:
        try:
            state, _version = load_case(container.store, case_id_of(task_id))
        except CaseNotFound:
            return Outcome("unknown")
        task = state.tasks.get(task_id)
        if task is None:
            return Outcome("unknown")
        department, target = task.department, _delivery_of(container, task.department)
        if target.type != INBOX:
            return _send_dispatch(container, state, task, target, now)
    delivered = record_inbox_delivery(
        container.engine,
        task_id=task_id,
        case_id=case_id_of(task_id),
        department=department,
        now=now,
    )
    return Outcome("delivered" if delivered else "already")


def _send_dispatch(
    container: Container, state: CaseState, task: TaskState, target: Delivery, now: datetime
) -> Outcome:
    """A task's dispatch out through the department's channel (any type but the inbox)."""
    claim = claim_delivery(
        container.engine,
        task_id=task.task_id,
        case_id=state.case_id,
        department=task.department,
        channel=target.type,
        now=now,
        lease=container.delivery_policy.lease,
    )
    if isinstance(claim, Busy):
        return _busy(claim, now)
    notice = dispatched_notice(state, task, _names(container))
    body = webhook_body(state, task, sent_at=now, attempt=claim.attempt)
    job = deliver_task_job(task.task_id, task.department)
    letter = {"task_id": task.task_id, "case_id": state.case_id, "kind": notice.kind}
    return _attempt(container, claim, target, notice, body, job, letter, now)


def deliver_notice(container: Container, case_id: str, version: int, department: str) -> Outcome:
    """Tell ``department`` what the event at ``version`` of the case means for it."""
    now = container.clock()
    notice = _notice_at(container, case_id, version, department)
    if notice is None:
        return Outcome("unknown")
    key = notice_id(case_id, version, department)
    target = _delivery_of(container, department)
    if target.type == INBOX:
        recorded = record_inbox_notice(
            container.engine,
            key=key,
            kind=notice.kind,
            case_id=case_id,
            task_id=notice.task_id,
            department=department,
            now=now,
        )
        return Outcome("delivered" if recorded else "already")
    claim = claim_delivery(
        container.engine,
        task_id=key,
        case_id=case_id,
        department=department,
        channel=target.type,
        now=now,
        lease=container.delivery_policy.lease,
        table=notice_deliveries,
        extra={"kind": notice.kind, "task_id": notice.task_id},
    )
    if isinstance(claim, Busy):
        return _busy(claim, now)
    body = notice_body(notice, sent_at=now, attempt=claim.attempt)
    job = deliver_notice_job(case_id, version, department)
    letter = {"notice_id": key, "case_id": case_id, "kind": notice.kind}
    return _attempt(container, claim, target, notice, body, job, letter, now)


def _notice_at(
    container: Container, stream_id: str, version: int, department: str
) -> Notice | None:
    """The notice the event at ``version`` gives ``department``: a case's, on the case folded
    up to it; a hotspot's (主动治理), from the event alone, for the street office it names."""
    history = container.store.read_stream(stream_id)
    upto = [r for r in history if r.version <= version]
    if not upto or upto[-1].version != version:
        return None
    event = registry.decode(upto[-1])
    if isinstance(event, HotspotDetected):
        notice = hotspot_notice(stream_id, event, _names(container))
        return notice if notice is not None and notice.department == department else None
    state = fold(((registry.decode(r), r.recorded_at) for r in upto), case_id=stream_id)
    if state is None:
        return None
    return notice_for(state, event, department, _names(container))


def _busy(claim: Busy, now: datetime) -> Outcome:
    if claim.until is None:
        return Outcome("already")
    return Outcome("busy", retry_in=max(1, int((claim.until - now).total_seconds()) + 1))


def _attempt(
    container: Container,
    claim: Claim,
    target: Delivery,
    notice: Notice,
    body: bytes,
    job: JobSpec,
    letter: dict[str, Any],
    now: datetime,
) -> Outcome:
    """One try; on failure, a retry after the policy's back-off or, at the last, a dead letter
    saying what it was (``delivery_kind``) and how it went (``type``)."""
    policy = container.delivery_policy
    try:
        send(target, notice, webhook_body=body, key=claim.key, sent_at=now, timeout=policy.timeout)
    except SendFailed as error:
        failure = f"attempt {claim.attempt}: {error}"
        if claim.attempt < policy.attempts:
            record_failed_attempt(container.engine, claim, error=failure, now=container.clock())
            return Outcome("retrying", retry_in=policy.delay_after(claim.attempt))
        payload = {
            "args": list(job.args),
            **{k: v for k, v in letter.items() if k != "kind"},
            "delivery_kind": letter["kind"],
            "type": target.type,
            "department": notice.department,
            "attempts": claim.attempt,
        }
        if target.url is not None:
            payload["url"] = target.url.split("?", 1)[0]  # a robot's key sits in the query
        record_failed_attempt(
            container.engine,
            claim,
            error=failure,
            now=container.clock(),
            dead_letter={
                "kind": DELIVER_TASK if job.kind == DELIVER_TASK else DELIVER_NOTICE,
                "job_id": job.id,
                "queue": job.queue,
                "payload": payload,
            },
        )
        return Outcome("dead_letter")
    record_delivered(container.engine, claim, now=container.clock())
    return Outcome("delivered")


def _names(container: Container) -> Names:
    catalogue = _catalogue(container)
    if catalogue is None:
        return Names()
    return Names(
        departments={d.code: d.name for d in catalogue.departments},
        categories={c.code: c.name for c in catalogue.categories},
        zone=catalogue.zone,
    )


def notice_body(notice: Notice, *, sent_at: datetime, attempt: int) -> bytes:
    """What a webhook receives for a notice: ``event`` is the kind, as for a dispatch."""
    payload = {"event": notice.kind, "sent_at": sent_at.isoformat(), "attempt": attempt}
    payload |= notice.payload()
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


_catalogues: dict[int, tuple[float, Catalogue | None]] = {}
CATALOGUE_TTL = 2.0  # seconds a worker keeps using the catalogue it looked up last


def _catalogue(container: Container) -> Catalogue | None:
    checked, catalogue = _catalogues.get(id(container), (0.0, None))
    if time.monotonic() - checked > CATALOGUE_TTL:
        active = container.catalogue_source()
        catalogue = active[1] if active else None
        _catalogues[id(container)] = (time.monotonic(), catalogue)
    return catalogue


def _delivery_of(container: Container, department: str) -> Delivery:
    """The department's channel in the active catalogue; the inbox if it is no longer there."""
    catalogue = _catalogue(container)
    return catalogue.delivery_of(department) if catalogue else Delivery(type="inbox")


def webhook_body(state: CaseState, task: TaskState, *, sent_at: datetime, attempt: int) -> bytes:
    """The JSON a department's system receives. Personal data stays with the centre."""
    location = state.location
    payload: dict[str, Any] = {
        "event": "task.dispatched",
        "kind": "task.dispatched",
        "sent_at": sent_at.isoformat(),
        "attempt": attempt,
        "task": {
            "id": task.task_id,
            "case_id": state.case_id,
            "case_no": state.case_no,
            "department": task.department,
            "role": task.role,
            "state": str(task.state),
            "dispatched_at": task.dispatched_at.isoformat(),
            "deadlines": {
                "sign_by": task.deadlines.sign_by.isoformat(),
                "contact_by": task.deadlines.contact_by.isoformat(),
                "reply_by": task.deadlines.reply_by.isoformat(),
            },
            "whistle_id": task.whistle_id,
        },
        "case": {
            "id": state.case_id,
            "case_no": state.case_no,
            "channel": state.channel,
            "category": state.category,
            "urgency": state.urgency,
            "description": state.description,
            "received_at": state.received_at.isoformat(),
            "location": location.model_dump(mode="json"),
        },
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
