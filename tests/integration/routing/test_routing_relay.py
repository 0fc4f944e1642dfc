"""The relay: the event log is the outbox; jobs have deterministic ids; the checkpoint moves
only after the jobs are in Redis."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import sqlalchemy as sa
from redis.backoff import NoBackoff
from redis.retry import Retry

import dispatch.handlers.route_case as route_case_module
from dispatch.correlation import correlated
from dispatch.delivery.queues import (
    BATCH_PREFIX,
    ROUTE_BATCH,
    ROUTING,
    department_queue,
    queue,
    route_case_job,
)
from dispatch.domain.case import CaseState
from dispatch.domain.events import AttachmentAdded
from dispatch.ops.backlog import RELAY_CHECKPOINT
from events import Meta, event_table
from events.checkpoints import load_checkpoint, save_checkpoint
from workers.relay import Relay

from worlds.routing import World


def relay_position(world: World) -> int:
    with world.container.engine.connect() as conn:
        return load_checkpoint(conn, RELAY_CHECKPOINT)


def test_a_new_case_becomes_one_routing_job_with_an_id_derived_from_the_case(world: World):
    case_id = world.submit()

    assert world.relay() == 1

    routing = queue(ROUTING, world.connection)
    assert routing.job_ids == [route_case_job(case_id).id] == [f"route_case-{case_id}"]


def test_a_task_for_a_department_on_its_own_channel_becomes_a_delivery_job(world: World):
    case_id = world.submit("city.stall")  # city hears by webhook

    world.relay()
    world.work([ROUTING])
    world.relay()

    assert queue(department_queue("city"), world.connection).job_ids == [
        f"deliver_task-{case_id}-1"
    ]
    assert world.delivery_states() == {}


def test_tasks_for_departments_on_the_inbox_are_delivered_by_the_relay_without_a_job(
    world: World,
):
    case_id = world.submit("road.pothole")  # lead roads, assist water: both on the inbox
    world.relay()
    world.work()

    world.relay()

    assert queue(department_queue("roads"), world.connection).job_ids == []
    assert queue(department_queue("water"), world.connection).job_ids == []
    assert world.delivery_states() == {f"{case_id}-1": "delivered", f"{case_id}-2": "delivered"}


def test_inbox_deliveries_stay_undone_when_redis_refuses_the_batchs_jobs(world: World):
    """They are written with the checkpoint: a batch that is not relayed records nothing."""
    first = world.submit("road.pothole")
    world.relay()
    world.work()
    world.submit()  # a routing job in the same batch as first's dispatches
    unreachable = redis.Redis(host="127.0.0.1", port=9, retry=Retry(NoBackoff(), 0))

    with pytest.raises(redis.ConnectionError):
        Relay(world.container.engine, unreachable).run_once()

    assert world.delivery_states() == {}
    world.relay()
    assert world.delivery_states() == {f"{first}-1": "delivered", f"{first}-2": "delivered"}


def test_relaying_the_same_events_again_enqueues_nothing_twice(world: World):
    first, second = world.submit(), world.submit()
    world.relay()
    with world.container.engine.begin() as conn:
        save_checkpoint(conn, RELAY_CHECKPOINT, 0)  # as if the relay crashed before saving

    world.relay()

    assert queue(ROUTING, world.connection).job_ids == [route_case_job(first, second).id]


def test_the_new_cases_of_a_batch_share_routing_jobs_of_at_most_route_batch_cases(
    world: World,
):
    cases = [world.submit() for _ in range(ROUTE_BATCH + 2)]

    world.relay()

    jobs = queue(ROUTING, world.connection).get_jobs()
    assert [tuple(job.args) for job in jobs] == [tuple(cases[:ROUTE_BATCH]), tuple(cases[-2:])]
    assert all(job.id.startswith(BATCH_PREFIX) for job in jobs)


def test_a_routing_batch_routes_each_case_under_the_correlation_id_of_its_own_request(
    world: World,
):
    cases = {}
    for n in range(3):
        with correlated(f"req-{n}"):  # the request that filed it
            cases[world.submit()] = f"req-{n}"

    world.relay()
    world.work([ROUTING])

    for case_id, request_id in cases.items():
        history = world.container.store.read_stream(case_id)
        [dispatched] = [r for r in history if r.type == "CaseDispatched"]
        assert dispatched.meta["correlation_id"] == request_id


def test_a_case_that_cannot_be_routed_does_not_hold_up_the_rest_of_its_batch(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    good, bad, also_good = world.submit(), world.submit(), world.submit()
    decide_routing = route_case_module.routing_command

    def refusing(state: CaseState, *args: Any) -> Any:
        if state.case_id == bad:
            raise RuntimeError("the test said so")
        return decide_routing(state, *args)

    monkeypatch.setattr(route_case_module, "routing_command", refusing)
    world.relay()
    world.work([ROUTING])

    assert world.routed_cases() == {good, also_good}
    [job] = queue(ROUTING, world.connection).scheduled_job_registry.get_job_ids()
    assert job == route_case_job(good, bad, also_good).id  # waiting for its retry


def test_the_checkpoint_stays_put_when_redis_refuses_the_jobs(world: World):
    world.submit()
    unreachable = redis.Redis(host="127.0.0.1", port=9, retry=Retry(NoBackoff(), 0))

    with pytest.raises(redis.ConnectionError):
        Relay(world.container.engine, unreachable).run_once()

    assert relay_position(world) == 0
    assert world.relay() == 1
    assert relay_position(world) == world.container.store.head_position()


def test_a_relay_taking_over_starts_where_the_last_leader_stopped(world: World):
    c = world.container
    leader = Relay(c.engine, world.connection, catalogue=c.catalogue_source, clock=c.clock)
    world.submit()
    assert leader.run_once() == 1
    world.submit()
    other = Relay(c.engine, world.connection, catalogue=c.catalogue_source, clock=c.clock)
    assert other.run_once() == 1  # another scheduler led for a while

    leader.forget_position()  # as the scheduler does on winning the lease back

    assert leader.run_once() == 0
    assert leader.position() == relay_position(world) == c.store.head_position()


def test_a_routing_batch_appends_its_cases_together_each_under_its_own_command(world: World):
    cases = [world.submit() for _ in range(3)]
    world.relay()
    world.work([ROUTING])

    assert world.routed_cases() == set(cases)
    query = sa.select(event_table.c.stream_id, event_table.c.tx_id, event_table.c.meta).where(
        event_table.c.type == "CaseDispatched"
    )
    with world.container.engine.connect() as conn:
        dispatched = conn.execute(query).all()
    assert {row.meta["command_id"] for row in dispatched} == {f"route:{c}" for c in cases}
    if world.container.engine.dialect.name == "postgresql":
        assert len({row.tx_id for row in dispatched}) == 1  # one transaction for the batch


def test_a_routing_batch_whose_case_moved_meanwhile_routes_each_case_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """An operator attaches a photo to one case between the batch's read and its append:
    the batch appends nothing, and every case is then routed on its own, the photo kept."""
    cases = [world.submit() for _ in range(3)]
    store = world.container.store
    read_streams = store.read_streams

    def read_then_photo(stream_ids: Any) -> Any:
        histories = read_streams(stream_ids)
        photo = AttachmentAdded(
            attachment_id="att-1",
            sha256="0" * 64,
            size=1,
            media_type="image/jpeg",
            stage="intake",
            by="op-1",
        )
        moved = cases[1]
        meta = Meta(actor="op-1", role="operator", command_id=f"photo-{moved}")
        store.append(moved, [photo], expected_version=len(histories[moved]), meta=meta)
        return histories

    monkeypatch.setattr(store, "read_streams", read_then_photo)
    world.relay()
    world.work([ROUTING])

    assert world.routed_cases() == set(cases)
    assert [e.type for e in store.read_stream(cases[1])][-2:] == [
        "AttachmentAdded",
        "CaseDispatched",
    ]
    assert sum(world.dispatches().values()) == 3  # one task per case, none twice
