"""Delivery of a task to its department (派单送达): the built-in inbox, or a signed webhook.

Inbox: the task already shows in the department's inbox projection; delivering it records
``delivered``. Webhook: POST a JSON body to the department's URL with

    X-Street-Whistle-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret>
    X-Street-Whistle-Timestamp: <unix seconds>   (also in the signed body as ``sent_at``)
    X-Street-Whistle-Delivery:  <task id>        (the receiver's idempotency key)

Each attempt first claims the task's delivery row with a lease (``dispatch.delivery.state``),
so two copies of the job never post at once and a delivered task is never posted again. A
failed attempt is retried with exponential back-off; after the last one the delivery is
``failed`` and a dead letter waits for a dispatcher to replay it.

Only the status of a response is kept (``HTTP 500``), never its body: a receiver's error page
may echo the case back, and whatever it says has no place in our tables. At most
``RESPONSE_READ_MAX`` bytes of a response are read (and dropped), so a receiver cannot make
a worker hold a huge or endless answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue, Delivery
from dispatch.delivery.queues import DELIVER_TASK, deliver_task_job
from dispatch.delivery.state import (
    INBOX,
    WEBHOOK,
    Busy,
    claim_delivery,
    record_delivered,
    record_failed_attempt,
    record_inbox_delivery,
)
from dispatch.domain.case_state import CaseState, TaskState
from dispatch.domain.ids import case_id_of
from dispatch.handlers import CaseNotFound
from dispatch.handlers.executor import load_case

SIGNATURE_HEADER = "X-Street-Whistle-Signature"
TIMESTAMP_HEADER = "X-Street-Whistle-Timestamp"
DELIVERY_HEADER = "X-Street-Whistle-Delivery"
# Our own attempt counter decides when to give up; RQ's cap only guards against a bug.
MAX_RQ_RETRIES = 1000
RESPONSE_READ_MAX = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    """``delivered`` · ``already`` (settled before) · ``retrying`` · ``dead_letter`` ·
    ``unknown`` (no such task); ``retry_in`` asks RQ to run the job again after that many s."""

    state: str
    retry_in: int | None = None


class WebhookFailed(Exception):
    pass


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=<hex HMAC-SHA256(secret, body)>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a department's receiver does with the header (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, body), header)


def deliver(container: Container, task_id: str, *, department: str | None = None) -> Outcome:
    """Deliver ``task_id``; ``department`` is the one whose queue the job came from.

    A department on the built-in inbox needs nothing from the case: the task is recorded as
    delivered straight away (the job exists because its ``CaseDispatched`` was relayed), which
    spares every inbox delivery a read and a fold of the case's whole history. The case is
    read when the department is not known or posts to a webhook.
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
            return _deliver_webhook(container, state, task, target, now)
    delivered = record_inbox_delivery(
        container.engine,
        task_id=task_id,
        case_id=case_id_of(task_id),
        department=department,
        now=now,
    )
    return Outcome("delivered" if delivered else "already")


def _deliver_webhook(
    container: Container, state: CaseState, task: TaskState, target: Delivery, now: datetime
) -> Outcome:
    policy = container.delivery_policy
    claim = claim_delivery(
        container.engine,
        task_id=task.task_id,
        case_id=state.case_id,
        department=task.department,
        channel=WEBHOOK,
        now=now,
        lease=policy.lease,
    )
    if isinstance(claim, Busy):
        if claim.until is None:
            return Outcome("already")
        return Outcome("busy", retry_in=max(1, int((claim.until - now).total_seconds()) + 1))
    body = webhook_body(state, task, sent_at=now, attempt=claim.attempt)
    try:
        post(target, task.task_id, body, sent_at=now, timeout=policy.timeout)
    except WebhookFailed as error:
        if claim.attempt >= policy.attempts:
            job = deliver_task_job(task.task_id, task.department)
            record_failed_attempt(
                container.engine,
                claim,
                error=f"attempt {claim.attempt}: {error}",
                now=container.clock(),
                dead_letter={
                    "kind": DELIVER_TASK,
                    "job_id": job.id,
                    "queue": job.queue,
                    "payload": {
                        "args": list(job.args),
                        "task_id": task.task_id,
                        "case_id": state.case_id,
                        "department": task.department,
                        "url": target.url,
                        "attempts": claim.attempt,
                    },
                },
            )
            return Outcome("dead_letter")
        record_failed_attempt(
            container.engine,
            claim,
            error=f"attempt {claim.attempt}: {error}",
            now=container.clock(),
        )
        return Outcome("retrying", retry_in=policy.delay_after(claim.attempt))
    record_delivered(container.engine, claim, now=container.clock())
    return Outcome("delivered")


_catalogues: dict[int, tuple[float, Catalogue | None]] = {}
CATALOGUE_TTL = 2.0  # seconds a worker keeps using the catalogue it looked up last


def _delivery_of(container: Container, department: str) -> Delivery:
    """The department's channel in the active catalogue; the inbox if it is no longer there."""
    checked, catalogue = _catalogues.get(id(container), (0.0, None))
    if time.monotonic() - checked > CATALOGUE_TTL:
        active = container.catalogue_source()
        catalogue = active[1] if active else None
        _catalogues[id(container)] = (time.monotonic(), catalogue)
    found = catalogue.department(department) if catalogue else None
    return found.delivery if found is not None else Delivery(type="inbox")


def webhook_body(state: CaseState, task: TaskState, *, sent_at: datetime, attempt: int) -> bytes:
    """The JSON a department's system receives. Personal data stays with the centre."""
    location = state.location
    payload: dict[str, Any] = {
        "event": "task.dispatched",
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


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False, headers={"User-Agent": "street-whistle"})
        return _client


def post(target: Delivery, task_id: str, body: bytes, *, sent_at: datetime, timeout: float) -> None:
    """POST ``body`` signed with the department's secret; raise ``WebhookFailed`` unless 2xx."""
    assert target.url is not None
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(target.secret or "", body),
        TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
        DELIVERY_HEADER: task_id,
    }
    try:
        with _http().stream(
            "POST", target.url, content=body, headers=headers, timeout=timeout
        ) as response:
            _drain(response)
    except httpx.HTTPError as error:
        raise WebhookFailed(f"{type(error).__name__}: {error}") from error
    if not 200 <= response.status_code < 300:
        raise WebhookFailed(f"HTTP {response.status_code}")


def _drain(response: httpx.Response) -> None:
    """Read up to ``RESPONSE_READ_MAX`` bytes of the answer and drop them."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read >= RESPONSE_READ_MAX:
            break
