"""Jobs are idempotent: the same job delivered twice changes the log once."""

from __future__ import annotations

from dispatch.delivery.queues import (
    ROUTING,
    deliver_task_job,
    department_queue,
    enqueue,
    enqueue_all,
    queue,
    route_case_job,
)
from dispatch.ops.backlog import RELAY_CHECKPOINT
from events.checkpoints import save_checkpoint

from worlds.routing import World, catalogue_text


def test_a_routing_job_delivered_twice_dispatches_the_case_once(world: World):
    case_id = world.submit("road.pothole")
    world.relay()
    job_id = route_case_job(case_id).id
    world.connection.rpush(queue(ROUTING, world.connection).key, job_id)  # RQ hands it out twice

    world.work()

    assert world.dispatches() == {f"{case_id}-1": 1, f"{case_id}-2": 1}


def test_a_routing_job_run_again_after_it_finished_appends_nothing(world: World):
    case_id = world.submit()
    world.settle()

    assert enqueue(world.connection, route_case_job(case_id), replace_settled=True)
    world.work()

    assert world.dispatches() == {f"{case_id}-1": 1}
    assert len(world.events_of(case_id, "CaseDispatched")) == 1


def test_an_inbox_task_relayed_twice_and_delivered_by_a_job_too_is_delivered_once(world: World):
    case_id = world.submit()  # water, on the built-in inbox
    world.relay()
    world.work()
    world.relay()
    with world.container.engine.begin() as conn:
        save_checkpoint(conn, RELAY_CHECKPOINT, 0)  # as if the relay crashed before saving
    world.relay()
    # What the reconciler enqueues for a task it finds undelivered, twice over:
    enqueue(world.connection, deliver_task_job(f"{case_id}-1", "water"))
    water = queue(department_queue("water"), world.connection)
    world.connection.rpush(water.key, *water.job_ids)

    world.work()

    assert world.delivery_states() == {f"{case_id}-1": "delivered"}
    with world.container.engine.connect() as conn:
        attempts = conn.exec_driver_sql("SELECT attempts FROM deliveries").scalar()
    assert attempts == 1


def test_an_unroutable_case_is_marked_once_and_waits_for_a_dispatcher(world: World):
    world.load_catalogue(without_the_rule_for("water.*"))
    case_id = world.submit("water.outage")

    world.settle()
    world.reconcile()
    world.settle()

    assert len(world.events_of(case_id, "CaseUnroutable")) == 1
    assert world.dispatches() == {}


def without_the_rule_for(pattern: str) -> str:
    return "\n".join(
        line for line in catalogue_text().splitlines() if f'category: "{pattern}"' not in line
    )


def test_a_batch_enqueued_at_once_holds_each_job_once_and_refuses_the_ones_already_there(
    world: World,
):
    first, second = world.submit(), world.submit("road.pothole")
    already = route_case_job(first)
    assert enqueue(world.connection, already)

    added = enqueue_all(world.connection, [already, route_case_job(second), route_case_job(second)])

    assert added == 1  # the job already waiting and the repeated one are refused
    assert sorted(queue(ROUTING, world.connection).job_ids) == sorted(
        [already.id, route_case_job(second).id]
    )
    assert "rq:queue:routing" in {key.decode() for key in world.connection.smembers("rq:queues")}
    world.work()
    assert set(world.dispatches()) == {f"{first}-1", f"{second}-1", f"{second}-2"}
