"""Reading the machine and its processes for the benchmark report."""

from __future__ import annotations

import pytest

from bench.machine import cpu, memory_gb
from bench.processes import CpuWindow, Group, Reading, postgres_role
from bench.suite import BenchRefused, check_database, parts_named

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu

processor\t: 1
model name\t: AMD EPYC 7B13
"""


def test_the_cpu_is_its_model_and_how_many_processors() -> None:
    assert cpu(CPUINFO) == ("AMD EPYC 7B13", 2)


def test_memory_is_read_in_gigabytes() -> None:
    assert memory_gb("MemTotal:       24641536 kB\nMemFree: 1 kB\n") == 23.5


@pytest.mark.parametrize(
    ("title", "role"),
    [
        ("postgres: 15/main: postgres sw_bench_1a2b 127.0.0.1(44630) idle", "backend"),
        ("postgres: 15/main: autovacuum worker sw_bench_1a2b", "backend"),
        ("postgres: 15/main: postgres sw_prof 127.0.0.1(44644) idle", None),
        ("postgres: 15/main: checkpointer ", "background"),
        ("postgres: walwriter", "background"),
        ("/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", "background"),
    ],
)
def test_postgres_processes_are_ours_the_servers_or_a_neighbours(
    title: str, role: str | None
) -> None:
    assert postgres_role(title, "sw_bench_1a2b") == role


class Readings:
    def __init__(self) -> None:
        self.now: Reading = {}

    def __call__(self) -> Reading:
        return dict(self.now)


def test_the_window_counts_what_each_group_spent_while_open() -> None:
    service, client = Readings(), Readings()
    window = CpuWindow({"api": Group(service), "client": Group(client, counted=False)})
    service.now, client.now = {1: 10.0, 2: 5.0}, {9: 1.0}
    window.open()
    service.now, client.now = {1: 10.5, 2: 5.25, 3: 0.25}, {9: 2.0}  # 3 started meanwhile
    window.poll()
    service.now = {1: 11.0, 3: 0.5}  # 2 ended; it counts to its last reading
    window.close()
    assert window.per_item_ms(1000) == {"api": 1.75, "client": 1.0, "total": 1.75}
    assert window.counted() == ["api"]


def test_the_parts_are_named_and_run_in_the_suites_order() -> None:
    assert parts_named("kpi, append") == ("append", "kpi")
    assert parts_named("") == ("append", "intake", "inbox", "rebuild", "kpi")
    with pytest.raises(BenchRefused, match="no part named kpis"):
        parts_named("kpis")


def test_the_bench_asks_for_postgresql() -> None:
    with pytest.raises(BenchRefused, match="needs PostgreSQL, not sqlite"):
        check_database("sqlite:///./dispatch.db")
    with pytest.raises(BenchRefused, match="--database-url"):
        check_database(None)
