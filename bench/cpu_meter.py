"""CPU milliseconds per complaint across every process of a run, and their peak memory.

A run opens the window once the pipeline is in its steady part and closes it before the end
(``open``/``close``, with how many complaints were offered in between). Every process group
that does the work is counted; the load client (the bench process and its database
connections: the inbox watcher, the backlog sampler) is listed beside them, not counted.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from bench.processes import (
    CpuWindow,
    Group,
    Sampler,
    Source,
    combined,
    other_threads,
    postgres,
    processes,
    redis_server_pid,
    threads,
)

CLIENT = "load client (not counted)"
STEADY = (0.2, 0.8)  # the window: from a fifth of the complaints offered to four fifths


def steady_window(count: int) -> tuple[int, int]:
    """The complaint numbers at which the window opens and closes."""
    return int(count * STEADY[0]), int(count * STEADY[1])


class Meter:
    """One run's CPU window and memory sampler."""

    def __init__(
        self, groups: dict[str, Group], roles: dict[str, list[int]], notes: list[str]
    ) -> None:
        self.window = CpuWindow(groups)
        self.sampler = Sampler(roles, self.window)
        self.notes = notes
        self.items = 0

    def start(self) -> None:
        self.sampler.start()

    def open(self) -> None:
        self.window.open()

    def close(self, items: int) -> None:
        self.window.close()
        self.items = items

    def finish(self) -> dict[str, Any]:
        peak_rss_mb = self.sampler.stop()
        return {
            "window_s": round(self.window.closed_at - self.window.opened_at, 2),
            "items": self.items,
            "cpu_ms_per_item": self.window.per_item_ms(self.items),
            "counted": self.window.counted(),
            "peak_rss_mb": peak_rss_mb,
            "notes": self.notes,
        }


def _shared_groups(
    database_url: str, redis_url: str, client_backends: set[int]
) -> tuple[dict[str, Group], list[str]]:
    """PostgreSQL (this database's backends, the server's background) and Redis."""
    notes: list[str] = []
    database = sa.make_url(database_url).database or ""
    groups = {
        "postgres (this database)": Group(postgres(database, "backend", excluded=client_backends)),
        "postgres (server)": Group(postgres(database, "background")),
    }
    if not groups["postgres (server)"].source():
        notes.append("no PostgreSQL process on this machine: the database's CPU is not counted")
    pid = redis_server_pid(redis_url)
    if pid is None:
        notes.append("redis-server is not on this machine: its CPU is not counted")
    else:
        groups["redis"] = Group(processes([pid]))
    return groups, notes


def service_meter(
    database_url: str, redis_url: str, roles: dict[str, list[int]], client_backends: set[int]
) -> Meter:
    """Our processes (api, scheduler, workers) with the database and Redis."""
    groups = {role: Group(processes(pids)) for role, pids in roles.items()}
    shared, notes = _shared_groups(database_url, redis_url, client_backends)
    groups |= shared
    client: Source = combined(processes([os.getpid()]), processes(client_backends))
    groups[CLIENT] = Group(client, counted=False)
    return Meter(groups, roles, notes)


def raw_hop_meter(
    database_url: str, redis_url: str, hop_threads: set[int], client_backends: set[int]
) -> Meter:
    """The raw hop's threads (they do the API's, the relay's and the worker's part) with the
    database and Redis; ``hop_threads`` fills in as the threads start."""
    groups = {"raw hop threads": Group(threads(hop_threads))}
    shared, notes = _shared_groups(database_url, redis_url, client_backends)
    groups |= shared
    client = combined(other_threads(hop_threads), processes(client_backends))
    groups[CLIENT] = Group(client, counted=False)
    return Meter(groups, {}, notes)
