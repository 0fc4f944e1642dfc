"""Queue depths, relay lag and dead letters, in ``/metrics`` and in ``/readyz``'s detail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dispatch.app import create_app

from worlds.routing import World

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


def scraper(world: World) -> dict[str, str]:
    """Prometheus's headers, with the metrics token set on the world's settings."""
    world.container.settings.metrics_token = METRICS_TOKEN
    return {"Authorization": f"Bearer {METRICS_TOKEN}"}


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
        response = client.get("/metrics", headers=scraper(world))

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
        body = client.get("/readyz", headers=scraper(world)).json()

    assert body["ready"] is True
    assert body["backlog"]["queues"]["routing"] == 1
    assert body["backlog"]["relay_lag"] == 0
    assert body["backlog"]["dead_letters"] == 0
    assert body["backlog"]["deliveries"] == {"pending": 0, "delivered": 0, "failed": 0}


def test_metrics_are_refused_from_a_non_loopback_client_without_the_token(world: World):
    app = create_app(world.container)
    with TestClient(app, client=("203.0.113.9", 40000)) as stranger:
        assert stranger.get("/metrics").status_code == 403  # no token configured
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200  # no token: loopback only
    headers = scraper(world)
    with TestClient(app, client=("203.0.113.9", 40000)) as stranger:
        assert stranger.get("/metrics").status_code == 401
        assert (
            stranger.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
        assert stranger.get("/metrics", headers=headers).status_code == 200
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 401  # a token is set: from any address


def test_readyz_tells_strangers_ready_or_not_and_nothing_more(world: World):
    app = create_app(world.container)
    with TestClient(app, client=("203.0.113.9", 40000)) as stranger:
        response = stranger.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True}
