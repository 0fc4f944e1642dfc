"""Queue depths, relay lag and dead letters, in ``/metrics`` and in ``/readyz``'s detail."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.bootstrap import bootstrap

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
    # the three cases relayed together: one routing job of three cases
    assert sample(text, 'street_whistle_queue_depth{queue="routing"}') == 1
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
        assert "dispatch_http_requests_total" not in local.get("/metrics").text


def test_readyz_tells_strangers_ready_or_not_and_nothing_more(world: World):
    app = create_app(world.container)
    with TestClient(app, client=("203.0.113.9", 40000)) as stranger:
        response = stranger.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True}


def request_samples(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines() if line.startswith("dispatch_http_requests_")]


def test_metrics_count_requests_by_route_template_and_status_never_by_raw_path(world: World):
    case_id = world.submit()
    with TestClient(create_app(world.container)) as client:
        for _ in range(2):
            client.get(f"/api/v1/cases/{case_id}")  # 401: no token
        client.get("/api/v1/no-such-thing/123")
        client.get("/healthz")
        text = client.get("/metrics", headers=scraper(world)).text

    route = (
        'dispatch_http_requests_total{method="GET",route="/api/v1/cases/{case_id}",status="401"}'
    )
    assert sample(text, route) >= 2
    assert sample(text, 'dispatch_http_requests_total{method="GET",route="/healthz",status="200"}')
    unmatched = 'dispatch_http_requests_total{method="GET",route="<unmatched>",status="404"}'
    assert sample(text, unmatched) >= 1
    latency = 'dispatch_http_request_duration_seconds_count{method="GET",route="/healthz"}'
    assert sample(text, latency) >= 1
    assert "# TYPE dispatch_requests_shed_total counter" in text
    for line in request_samples(text):
        assert case_id not in line and "/123" not in line, line


def test_metrics_show_deliveries_by_kind_and_sla_warnings(world: World):
    world.submit()
    world.settle()
    with TestClient(create_app(world.container)) as client:
        text = client.get("/metrics", headers=scraper(world)).text

    assert sample(text, 'street_whistle_deliveries_by_kind{kind="inbox",state="delivered"}') == 1
    assert "# TYPE street_whistle_sla_warnings_raised_total counter" in text


def test_readyz_is_503_when_the_relay_falls_behind_its_limit(world: World):
    world.container.settings.ready_max_relay_lag = 2
    world.submit()
    world.submit()
    app = create_app(world.container)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200  # 2 events behind: at the limit
        world.submit()
        behind = client.get("/readyz", headers=scraper(world))
        world.relay()
        caught_up = client.get("/readyz")

    assert behind.status_code == 503
    assert behind.json()["checks"]["relay_lag"] == "3 events behind, limit 2"
    assert caught_up.status_code == 200


def test_readyz_is_503_when_a_projection_falls_behind_its_limit(world: World):
    world.container.settings.ready_max_projection_lag = 1
    world.submit()
    world.container.projector.catch_up()
    world.relay()
    with TestClient(create_app(world.container)) as client:
        assert client.get("/readyz").status_code == 200
        world.submit()
        world.submit()
        world.relay()  # only the projections are behind now
        behind = client.get("/readyz", headers=scraper(world))

    assert behind.status_code == 503
    assert "2 events behind, limit 1" in behind.json()["checks"]["projection_lag"]
    assert behind.json()["checks"]["relay_lag"] == "ok"


def test_readyz_is_503_within_a_few_seconds_when_redis_is_unreachable(world: World):
    headers = scraper(world)
    settings = world.container.settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    container = bootstrap(settings)
    try:
        with TestClient(create_app(container)) as client:
            started = time.monotonic()
            response = client.get("/readyz", headers=headers)
            took = time.monotonic() - started
    finally:
        container.close()

    assert response.status_code == 503
    assert response.json()["ready"] is False
    assert response.json()["checks"]["redis"].startswith("unreachable")
    assert response.json()["checks"]["database"] == "ok"
    assert took < 5


DASHBOARD = Path(__file__).parents[3] / "deploy/grafana/street-whistle.json"


def test_the_grafana_dashboard_queries_only_metrics_that_exist(world: World):
    world.submit()
    world.settle()
    with TestClient(create_app(world.container)) as client:
        client.get("/healthz")
        text = client.get("/metrics", headers=scraper(world)).text
    exposed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    dashboard = json.loads(DASHBOARD.read_text())

    queried = {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(?:dispatch|street_whistle)_[a-z_]+", target["expr"])
    }
    assert queried and queried <= exposed, queried - exposed
    assert {v["name"] for v in dashboard["templating"]["list"]} >= {"datasource"}
