"""Queue depths, relay lag and dead letters, in ``/metrics`` and in ``/readyz``'s detail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dispatch.app import create_app

from worlds.routing import World


def sample(metrics: str, name: str) -> float:
    """The value of one sample line, e.g. ``street_whistle_queue_depth{queue="routing"}``."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_metrics_show_waiting_jobs_and_events_not_yet_relayed(world: World):
    for _ in range(3):
        world.submit()
    world.relay()
    world.submit()
    world.submit()  # two more events the relay has not seen

    with TestClient(create_app(world.container)) as client:
        response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, 'street_whistle_queue_depth{queue="routing"}') == 3
    assert sample(text, 'street_whistle_queue_depth{queue="dept:water"}') == 0
    assert sample(text, "street_whistle_relay_lag_events") == 2
    assert sample(text, "street_whistle_dead_letters") == 0
    assert sample(text, "street_whistle_log_head_position") == 5


def test_readyz_reports_the_backlog_beside_the_checks(world: World):
    world.submit()
    world.relay()

    with TestClient(create_app(world.container)) as client:
        body = client.get("/readyz").json()

    assert body["ready"] is True
    assert body["backlog"]["queues"]["routing"] == 1
    assert body["backlog"]["relay_lag"] == 0
    assert body["backlog"]["dead_letters"] == 0
    assert body["backlog"]["deliveries"] == {"pending": 0, "delivered": 0, "failed": 0}
