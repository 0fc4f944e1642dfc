"""``dispatch serve`` with no DISPATCH_REDIS_URL: embedded Redis, a worker and the scheduler
as child processes, the API — a complaint reaches its department — and a clean stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from dispatch.auth.users import add_user
from dispatch.catalogue.versions import load_catalogue
from events.database import make_engine

from worlds.routing import catalogue_text, fresh_database

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_runs_everything_and_stops_everything(tmp_path: Path):
    with fresh_database(tmp_path) as database_url:
        engine = make_engine(database_url)
        load_catalogue(engine, catalogue_text(), loaded_by="tests")
        with engine.begin() as conn:
            add_user(
                conn,
                username="op",
                password=PASSWORD,
                roles=("operator",),
                hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
            )
        engine.dispose()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
        env |= {
            "DISPATCH_DATABASE_URL": database_url,
            "DISPATCH_EMBEDDED_REDIS_DIR": str(tmp_path / "redis"),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "workers", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            banner = ""  # log lines (JSON) may come before the banner
            while "Street Whistle on" not in banner and server.poll() is None:
                banner = server.stdout.readline()  # type: ignore[union-attr]
            children = [int(pid) for pid in re.findall(r"pid (\d+)", banner)]
            assert len(children) == 2, banner
            # Keep reading what it logs: a full pipe would block it (and its children) mid-write.
            threading.Thread(target=server.stdout.read, daemon=True).start()  # type: ignore[union-attr]
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=5) as client:
                wait_for(lambda: _get(client, "/healthz") == 200, "the API answers")
                token = client.post(
                    "/api/v1/auth/token", data={"username": "op", "password": PASSWORD}
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                case = client.post(
                    "/api/v1/cases",
                    headers=headers,
                    json={
                        "channel": "phone",
                        "category": "road.pothole",
                        "description": "长安路有个大坑",
                        "urgency": "normal",
                        "location": {"address": "长安路 12 号"},
                    },
                )
                assert case.status_code == 201, case.text

                def routed() -> bool:
                    found = client.get(f"/api/v1/cases/{case.json()['id']}", headers=headers)
                    return len(found.json().get("tasks", [])) == 2

                wait_for(routed, "the case is routed to roads and water by the worker")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

        assert server.returncode == 0
        assert not any(alive(pid) for pid in children)
        assert not (tmp_path / "redis" / "redis.sock").exists()


def _get(client: httpx.Client, path: str) -> int:
    try:
        return client.get(path).status_code
    except httpx.TransportError:
        return 0


def wait_for(condition, what: str, timeout: float = 45) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)
