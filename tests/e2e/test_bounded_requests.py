"""No request makes the server read, parse or return without bound (DESIGN.md §8.9)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dispatch.bootstrap import Container

API = "/api/v1"
OPEN311 = "/open311/v2"
MIB = 1024 * 1024


def is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_a_2_mib_body_is_413_before_anything_parses_it(client: TestClient, login: Any):
    operator = login("operator")
    body = b'{"description": "' + b"x" * (2 * MIB) + b'"}'
    headers = {**operator, "Content-Type": "application/json"}
    problem = is_problem(client.post(f"{API}/cases", content=body, headers=headers), 413)
    assert "1024 KiB" in problem["detail"]
    form = {"api_key": "whatever", "description": "x" * (2 * MIB)}
    is_problem(client.post(f"{OPEN311}/requests.json", data=form), 413)
    is_problem(client.post("/console/login", data={"username": "x" * (2 * MIB)}), 413)


def test_a_chunked_body_is_counted_as_it_streams(client: TestClient, login: Any):
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 64 * 1024  # 2.5 MiB in all, no Content-Length

    headers = {**login("operator"), "Content-Type": "application/json"}
    is_problem(client.post(f"{API}/cases", content=chunks(), headers=headers), 413)


def test_a_body_under_the_limit_is_read_as_usual(client: TestClient, login: Any):
    headers = {**login("operator"), "Content-Type": "application/json"}
    body = b'{"description": "' + b"x" * (MIB // 2) + b'"}'
    assert client.post(f"{API}/cases", content=body, headers=headers).status_code == 422


@pytest.mark.parametrize("path", ["/cases", "/tasks"])
def test_a_page_of_more_than_500_is_422(client: TestClient, login: Any, path: str):
    headers = login("dispatcher")
    for size in (100_000, 501):
        response = client.get(f"{API}{path}", params={"page_size": size}, headers=headers)
        problem = is_problem(response, 422)
        assert problem["errors"][0]["field"] == "page_size"
    answer = client.get(f"{API}{path}", params={"page_size": 500}, headers=headers)
    assert answer.status_code == 200 and answer.json()["page_size"] == 500


def test_dead_letters_page_is_bounded_too(client: TestClient, login: Any):
    response = client.get(
        f"{API}/deliveries/dead-letters", params={"page_size": 100_000}, headers=login("dispatcher")
    )
    is_problem(response, 422)


def test_a_search_of_one_character_is_422(client: TestClient, login: Any):
    headers = login("dispatcher")
    problem = is_problem(client.get(f"{API}/cases", params={"q": "a"}, headers=headers), 422)
    assert problem["errors"][0]["field"] == "q"
    assert client.get(f"{API}/cases", params={"q": "停水"}, headers=headers).status_code == 200


TRIGRAM_INDEX = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_case_list_search_trgm'"


@pytest.mark.postgres_only
def test_the_case_search_has_a_trigram_index_on_postgresql(app_container: Container):
    with app_container.engine.connect() as conn:
        found = conn.execute(sa.text(TRIGRAM_INDEX)).scalar()
    assert found is not None and "gin_trgm_ops" in found


@pytest.mark.postgres_only
def test_a_case_list_made_before_the_index_gets_it_at_the_next_start(app_container: Container):
    with app_container.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_case_list_search_trgm")
    assert app_container.projector.ensure_tables() == []  # no rebuild for an index
    with app_container.engine.connect() as conn:
        assert conn.execute(sa.text(TRIGRAM_INDEX)).scalar() is not None
