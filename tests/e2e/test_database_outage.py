"""PostgreSQL stopped → 503 with ``Retry-After: 1`` within a second, nothing half-written,
and the same process serves again by itself when the database is back (DESIGN.md §8.10).

The shared test server is never stopped: the app reaches it through a TCP forwarder that the
test stops (refusing new connections and cutting the pooled ones) and starts again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.bootstrap import Container, bootstrap
from dispatch.settings import Settings

from worlds.scenarios import API, COMPLAINT, PROBLEM_JSON
from worlds.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = sa.make_url(database_url)
    forwarder = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    forwarder.start()
    yield forwarder
    forwarder.stop()


@pytest.fixture
def behind_proxy(database_url: str, redis_url: str, proxy: TcpProxy) -> Iterator[Container]:
    url = sa.make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    container = bootstrap(
        Settings(
            database_url=url.render_as_string(hide_password=False),
            redis_url=redis_url,
            secret_key="test-secret-of-at-least-32-bytes-long",
        )
    )
    yield container
    container.close()


def operator_headers(engine: sa.Engine, container: Container) -> dict[str, str]:
    with engine.begin() as conn:
        user = add_user(
            conn,
            username=f"operator-{uuid.uuid4().hex[:10]}",
            password="correct horse battery staple",
            roles=("operator",),
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
    token, _ = issue_token(user, container.settings, container.clock())
    return {"Authorization": f"Bearer {token}"}


def filed_with(engine: sa.Engine, marker: str) -> int:
    query = sa.text(
        "SELECT count(*) FROM events WHERE type = 'CaseReceived' "
        "AND CAST(data AS TEXT) LIKE :marker"
    )
    with engine.connect() as conn:
        return int(conn.execute(query, {"marker": f"%{marker}%"}).scalar_one())


def complaint(marker: str) -> dict[str, Any]:
    return {**COMPLAINT, "description": f"{marker} 油烟直排"}


def test_a_stopped_database_is_a_quick_503_with_retry_after_and_nothing_half_written(
    behind_proxy: Container, proxy: TcpProxy, engine: sa.Engine, sample_catalogue: int
) -> None:
    headers = operator_headers(engine, behind_proxy)
    marker = f"outage-{uuid.uuid4().hex[:8]}"
    with TestClient(create_app(behind_proxy), raise_server_exceptions=False) as client:
        assert (
            client.post(f"{API}/cases", json=complaint("before"), headers=headers).status_code
            == 201
        )

        proxy.stop()
        for path in (f"{API}/cases", f"{API}/cases?page=1"):
            started = time.monotonic()
            if path.endswith("cases"):
                answer = client.post(path, json=complaint(marker), headers=headers)
            else:
                answer = client.get(path, headers=headers)
            took = time.monotonic() - started
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "1"
            assert answer.headers["Content-Type"].startswith(PROBLEM_JSON)
            assert took < 1.0, f"{path} took {took:.2f} s to answer 503"
        assert filed_with(engine, marker) == 0

        proxy.start()
        deadline = time.monotonic() + 10
        while True:  # the pool replaces its dead connections by itself: no restart
            answer = client.post(f"{API}/cases", json=complaint(marker), headers=headers)
            if answer.status_code == 201 or time.monotonic() > deadline:
                break
            assert answer.status_code == 503, answer.text
            time.sleep(float(answer.headers["Retry-After"]) / 10)
        assert answer.status_code == 201, answer.text
        assert filed_with(engine, marker) == 1
