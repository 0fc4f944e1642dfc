"""Intake latency while anonymous sign-ins storm the API (DESIGN.md §8.9).

    python -m bench.login_storm [--logins 50] [--intakes 100] [--database URL] [--json [FILE]]

Serves the app with uvicorn on a free port over a scratch SQLite database (or ``--database``,
migrated first), then files ``--intakes`` complaints one after another as an operator: first
on a quiet service, then while ``--logins`` anonymous sign-ins (unknown usernames, so a full
argon2 check each) run at once from as many threads, started again as they finish until the
intakes are done. Throttling is lifted for the run, so every sign-in costs a hash: the worst
case for intake. Prints p50 / p99 / max intake latency for both, and how the sign-ins were
answered (401 checked, 503 every hashing slot taken). Before sign-in moved out of the write
transaction, each check held SQLite's write lock and intake queued behind them.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from argon2 import PasswordHasher

from bench.kpi_cases import emit, json_option
from dispatch.app import create_app
from dispatch.auth.throttle import Limits, MemoryFailures, SignInGate
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.bootstrap import bootstrap
from dispatch.catalogue.versions import load_catalogue
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings

SAMPLE = Path(__file__).parent.parent / "dispatch/catalogue/samples/sample.yaml"
COMPLAINT = {
    "channel": "phone",
    "category": "env.smoke",
    "description": "楼下餐馆油烟直排",
    "urgency": "normal",
    "location": {"address": "西一路12号", "lat": 34.27, "lon": 108.952},
    "reporter": {"name": "王女士", "phone": "13800138000"},
}


@contextmanager
def served(app: Any) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def intake_latencies(base: str, headers: dict[str, str], count: int) -> dict[str, float]:
    samples = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = client.post("/api/v1/cases", json=COMPLAINT)
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise RuntimeError(f"intake answered {response.status_code}: {response.text}")
    samples.sort()
    return {
        "intakes": count,
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(samples[max(0, int(len(samples) * 0.99) - 1)], 1),
        "max_ms": round(samples[-1], 1),
    }


def storm(base: str, logins: int, stop: threading.Event, answers: Counter[int]) -> list[Any]:
    """``logins`` threads, each signing in as nobody again and again until ``stop``."""
    lock = threading.Lock()

    def keep_signing_in() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while not stop.is_set():
                form = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "guess 1234"}
                status = client.post("/api/v1/auth/token", data=form).status_code
                with lock:
                    answers[status] += 1

    threads = [threading.Thread(target=keep_signing_in, daemon=True) for _ in range(logins)]
    for thread in threads:
        thread.start()
    return threads


def measure(database_url: str, logins: int, intakes: int) -> dict[str, Any]:
    settings = Settings(database_url=database_url, secret_key="bench-" + "k" * 32)
    container = bootstrap(settings)
    prepare_database(container.engine)
    load_catalogue(container.engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="bench")
    with container.engine.begin() as conn:
        operator = add_user(
            conn,
            username=f"op-{uuid.uuid4().hex[:8]}",
            password="bench password",
            roles=["operator"],
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
    token, _ = issue_token(operator, settings, container.clock())
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(container)
    unlimited = Limits(per_username=10**9, per_address=10**9)
    app.state.sign_in_gate = SignInGate(MemoryFailures(), limits=unlimited)
    answers: Counter[int] = Counter()
    with served(app) as base:
        quiet = intake_latencies(base, headers, intakes)
        stop = threading.Event()
        threads = storm(base, logins, stop, answers)
        time.sleep(0.5)  # let the storm build up
        stormy = intake_latencies(base, headers, intakes)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    container.close()
    return {
        "database": container.engine.dialect.name,
        "logins_at_once": logins,
        "quiet": quiet,
        "during_storm": stormy,
        "sign_in_answers": {str(status): count for status, count in sorted(answers.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=50, help="anonymous sign-ins at once")
    parser.add_argument("--intakes", type=int, default=100, help="complaints filed per phase")
    parser.add_argument("--database", help="a database URL; default: a scratch SQLite file")
    json_option(parser)
    args = parser.parse_args(argv)
    if args.database:
        figures = measure(args.database, args.logins, args.intakes)
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'storm.db'}"
            figures = measure(url, args.logins, args.intakes)
    emit(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
