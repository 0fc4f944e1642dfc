"""The reconciler compares the log with Redis and puts back whatever Redis lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from rq.job import Job, JobStatus

from dispatch.delivery.queues import ROUTING, deliver_task_job, queue, route_case_job
from dispatch.delivery.state import dead_letters
from workers.reconciler import Reconciler

from worlds.routing import World


def open_dead_letters(world: World) -> list[sa.Row]:
    query = sa.select(dead_letters).where(dead_letters.c.replayed_at.is_(None))
    with world.container.engine.connect() as conn:
        return list(conn.execute(query))


def test_after_redis_lost_every_job_the_reconciler_puts_back_what_is_unfinished(world: World):
    cases = [world.submit("road.pothole") for _ in range(6)]  # roads and water: the inbox
    stalls = [world.submit("city.stall") for _ in range(2)]  # city: a webhook
    world.relay()
    world.work()  # routed: the inbox tasks are delivered as they are relayed ...
    world.relay()
    world.connection.flushdb()  # ... the webhook tasks' delivery jobs Redis then forgets
    late = [world.submit() for _ in range(3)]
    world.relay()
    world.connection.flushdb()  # and three new cases whose routing jobs it forgets

    report = world.reconcile()
    world.work()
    world.relay()
    world.work()

    assert sorted(report.requeued) == sorted(
        [deliver_task_job(f"{stall}-1", "city").id for stall in stalls]
        + [route_case_job(case).id for case in late]
    )
    assert world.routed_cases() == set(cases + stalls + late)
    assert set(world.dispatches().values()) == {1}
    states = world.delivery_states()
    # tried again, and waiting for its next attempt (nobody listens on the webhook port)
    assert {states.pop(f"{stall}-1") for stall in stalls} == {"pending"}
    assert set(states.values()) == {"delivered"}
    assert len(states) == 6 * 2 + 3


def test_nothing_is_enqueued_again_while_its_job_is_still_waiting(world: World):
    world.submit()
    world.relay()

    report = world.reconcile()

    assert report.requeued == []
    assert queue(ROUTING, world.connection).count == 1


def test_cases_a_routing_batch_carries_are_not_enqueued_again_while_it_waits_or_retries(
    world: World,
):
    cases = [world.submit() for _ in range(3)]
    world.relay()
    routing = queue(ROUTING, world.connection)
    [batch] = routing.job_ids

    assert world.reconcile().requeued == []  # waiting in the queue
    job = routing.fetch_job(batch)
    assert job is not None
    routing.remove(job)  # as RQ holds a job that failed and waits to be tried again
    routing.scheduled_job_registry.schedule(job, datetime.now(UTC) + timedelta(minutes=1))
    job.set_status(JobStatus.SCHEDULED)
    assert world.reconcile().requeued == []  # waiting for a retry
    assert routing.job_ids == []

    world.connection.flushdb()  # the batch is gone: each case gets a job of its own
    assert sorted(world.reconcile().requeued) == sorted(route_case_job(c).id for c in cases)


def test_a_routing_batch_that_cannot_be_read_leaves_its_cases_to_jobs_of_their_own(
    world: World,
):
    cases = [world.submit() for _ in range(2)]
    world.relay()
    [batch] = queue(ROUTING, world.connection).job_ids
    world.connection.hset(Job.key_for(batch), "data", b"not a job")  # half-written

    report = world.reconcile()

    assert sorted(report.requeued) == sorted(route_case_job(c).id for c in cases)


def test_events_younger_than_the_grace_period_are_left_to_the_relay(world: World):
    world.submit()
    world.relay()
    world.connection.flushdb()

    report = Reconciler(world.container, world.connection, grace=timedelta(minutes=5)).run_once()

    assert report.requeued == []
    assert report.watermark == 0


def test_the_watermark_passes_only_what_is_finished(world: World):
    world.submit()
    world.settle()
    head = world.container.store.head_position()

    assert world.reconcile().watermark == head
    world.submit()
    world.relay()
    world.connection.flushdb()
    assert world.reconcile().watermark == head  # the new case is not routed yet


def test_a_failed_job_becomes_a_dead_letter_and_leaves_redis(world: World):
    routing = queue(ROUTING, world.connection)
    routing.enqueue_call(  # no such parameter: a TypeError
        "workers.jobs.route_case", args=("a", "b"), kwargs={"c": 1}, job_id="route_case-broken"
    )
    world.work()
    assert routing.failed_job_registry.count == 1

    report = world.reconcile()

    assert report.dead_lettered == 1
    assert routing.failed_job_registry.count == 0
    [letter] = open_dead_letters(world)
    assert (letter.kind, letter.job_id) == ("route_case", "route_case-broken")
    assert letter.queue == ROUTING
    assert letter.payload == {"args": ["a", "b"]}
    assert "TypeError" in letter.error
    assert world.reconcile().dead_lettered == 0  # once
