"""The settings that bound load and outages refuse combinations that would defeat them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dispatch.bootstrap import outage_bounds
from dispatch.settings import Settings

KEY = "test-secret-of-at-least-32-bytes-long"


def test_threads_must_exceed_admitted_commands_so_reads_are_never_starved() -> None:
    with pytest.raises(ValidationError, match="DISPATCH_HTTP_THREADS"):
        Settings(secret_key=KEY, admission_concurrency=40, http_threads=40)
    assert Settings(secret_key=KEY, admission_concurrency=8, http_threads=9).http_threads == 9


def test_postgresql_connections_fail_fast_and_sqlite_takes_no_postgres_options() -> None:
    postgres = Settings(secret_key=KEY, database_url="postgresql://u@db/x")
    assert outage_bounds(postgres) == {
        "pool_timeout": 1.0,
        "connect_args": {"connect_timeout": 2},
    }
    assert outage_bounds(Settings(secret_key=KEY, database_url="sqlite:///x.db")) == {}


def test_a_connect_timeout_below_libpqs_minimum_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(secret_key=KEY, database_connect_timeout=1)
