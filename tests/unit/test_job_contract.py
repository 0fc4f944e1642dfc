"""The job contract: deterministic ids, queue names, retry back-off, webhook signatures."""

from __future__ import annotations

import hashlib
import hmac

from dispatch.delivery.policy import DeliveryPolicy
from dispatch.delivery.queues import (
    BATCH_PREFIX,
    deliver_task_job,
    job_id,
    queue_names,
    route_case_job,
    sla_scan_job,
)
from workers.delivery import sign, verify


def test_a_job_id_is_derived_from_its_input_alone():
    assert route_case_job("3f2a").id == route_case_job("3f2a").id == "route_case-3f2a"
    assert deliver_task_job("3f2a-2", "water").id == "deliver_task-3f2a-2"
    assert sla_scan_job().id == "raise_sla_warnings"


def test_a_routing_batchs_id_is_a_digest_of_its_cases_in_their_order():
    batch = route_case_job("3f2a", "77b0")
    assert batch.id == route_case_job("3f2a", "77b0").id
    assert batch.id.startswith(BATCH_PREFIX) and len(batch.id) == len(BATCH_PREFIX) + 40
    assert batch.id != route_case_job("77b0", "3f2a").id
    assert batch.queue == "routing" and batch.args == ("3f2a", "77b0")


def test_an_input_rq_would_refuse_as_a_job_id_is_hashed_stably():
    odd = job_id("route_case", "案件/42:x")
    assert odd == job_id("route_case", "案件/42:x")
    assert odd.startswith("route_case-") and odd.replace("-", "").replace("_", "").isalnum()


def test_a_delivery_job_goes_to_its_departments_queue():
    assert deliver_task_job("c-1", "city").queue == "dept:city"
    assert queue_names(["water", "city"]) == ["routing", "timers", "dept:city", "dept:water"]


def test_webhook_retries_back_off_and_then_stay_at_the_longest_wait():
    policy = DeliveryPolicy(attempts=6, backoff=(10, 60, 300))
    assert [policy.delay_after(n) for n in (1, 2, 3, 4, 5)] == [10, 60, 300, 300, 300]


def test_the_signature_is_the_hex_hmac_sha256_of_the_body_keyed_by_the_secret():
    body = b'{"task":{"id":"c-1"}}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign("k", body) == f"sha256={expected}"
    assert verify("k", body, f"sha256={expected}")
    assert not verify("k", body + b" ", f"sha256={expected}")
    assert not verify("other", body, f"sha256={expected}")
