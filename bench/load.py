"""The load client: complaints, a cheap HTTP poster, an open-loop pacer, percentiles.

The client shares the machine's two cores with what it measures, so it is kept cheap: plain
``http.client`` over kept-alive connections, one per thread.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import socket
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

CATEGORIES = ["water.outage", "road.pothole", "gas.smell", "power.outage", "env.smoke"]


def complaint(n: int, description: str = "压测工单") -> dict[str, Any]:
    """The n-th complaint: a category of the sample catalogue and one of its grids."""
    return {
        "channel": "phone",
        "category": CATEGORIES[n % len(CATEGORIES)],
        "description": f"{description} {n}",
        "urgency": "normal",
        "location": {"grid": "XYL-01" if n % 2 else "CLZ-02"},
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float | None]:
    """p50, p90, p99, max and mean of ``values`` (seconds), rounded; None when empty."""
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "p50": round(percentile(values, 0.50), 4),
        "p90": round(percentile(values, 0.90), 4),
        "p99": round(percentile(values, 0.99), 4),
        "max": round(max(values), 4),
        "mean": round(statistics.fmean(values), 4),
    }


class Poster:
    """POSTs JSON over one kept-alive ``http.client`` connection per thread.

    The load generator shares the machine with the service it measures; httpx spent about
    three times the CPU per request, which the service then lacked.
    """

    def __init__(self, port: int | Sequence[int], headers: dict[str, str]) -> None:
        # Several ports (several API processes): each thread keeps to one, taken in turn.
        self.ports = [port] if isinstance(port, int) else list(port)
        self.port = self.ports[0]
        self.turns = itertools.cycle(self.ports)
        self.headers = {**headers, "Content-Type": "application/json"}
        self.local = threading.local()

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, str]:
        payload = json.dumps(body).encode()
        for attempt in (1, 2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                if not hasattr(self.local, "port"):
                    self.local.port = next(self.turns)
                connection = self.local.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.local.port, timeout=10
                )
            try:
                connection.request("POST", path, body=payload, headers=self.headers)
                response = connection.getresponse()
                return response.status, response.read().decode()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def offer_open_loop(
    rate: float,
    count: int,
    submit: Callable[[int, float], None],
    *,
    threads: int = 64,
    at: dict[int, Callable[[], None]] | None = None,
    pool: ThreadPoolExecutor | None = None,
) -> float:
    """Call ``submit(n, due)`` for n < count at ``rate`` per second, each in a pool thread,
    never waiting for an answer before the next (open loop); ``due`` is the moment (monotonic)
    the n-th was meant to leave, from which an open-loop latency counts. ``at[n]()`` runs just
    before the n-th. Returns the seconds the offering took, once every call has returned.

    ``pool``: threads kept from one call to the next (and with them their connections);
    by default a pool of ``threads`` for this call alone."""
    hooks = at or {}
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=threads))
        started = time.monotonic()
        calls = []
        for n in range(count):
            due = started + n / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if n in hooks:
                hooks[n]()
            calls.append(pool.submit(submit, n, due))
        offered_for = time.monotonic() - started
        wait(calls)
    return offered_for
