"""The production processes, each its own OS process, as a deployment runs them.

``dispatch serve`` (with a Redis URL: the API alone), one ``dispatch scheduler`` and
``workers`` × ``dispatch worker``, all on one database and one Redis; an operator to file
complaints with a bearer token.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from bench.load import free_port
from dispatch.auth.users import add_user
from dispatch.catalogue.versions import load_catalogue
from dispatch.ops.embedded_redis import EmbeddedRedis
from dispatch.ops.migrations import prepare_database
from events.database import make_engine

SAMPLE = Path(__file__).parent.parent / "dispatch/catalogue/samples/sample.yaml"
PASSWORD = "bench-password-1"
OPERATOR = f"bench-operator-{uuid.uuid4().hex[:8]}"


def prepare(database_url: str) -> None:
    """Schema, the sample catalogue and the bench's operator."""
    engine = make_engine(database_url)
    prepare_database(engine)
    load_catalogue(engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="bench")
    with engine.begin() as conn:
        add_user(
            conn,
            username=OPERATOR,
            password=PASSWORD,
            roles=("operator",),
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        )
    engine.dispose()


@dataclass
class Running:
    port: int
    ports: list[int]  # every API process's (``port`` is the first)
    headers: dict[str, str]  # the operator's bearer token
    roles: dict[str, list[int]]  # api, scheduler, worker → process ids
    logs: Path


def start(arguments: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """``dispatch <arguments>``, its output appended to ``logs/<sub-command>.log``."""
    with (logs / f"{arguments[0]}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workers", *arguments], env=env, stdout=log, stderr=log
        )


def wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {base} did not answer /healthz within {seconds:.0f} s")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_service(
    database_url: str,
    redis_url: str,
    *,
    workers: int = 1,
    apis: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[Running]:
    """``apis`` API processes, the scheduler and ``workers`` workers on a prepared database
    (``prepare``)."""
    ports = [free_port() for _ in range(apis)]
    port = ports[0]
    environment = {
        **os.environ,
        "DISPATCH_DATABASE_URL": database_url,
        "DISPATCH_REDIS_URL": redis_url,
        "DISPATCH_SECRET_KEY": os.environ.get("DISPATCH_SECRET_KEY") or secrets.token_hex(32),
        **(env or {}),
    }
    logs = Path(tempfile.mkdtemp(prefix="sw-bench-logs-"))
    api_processes = [start(["serve", "--port", str(p)], environment, logs) for p in ports]
    api = api_processes[0]
    processes = [api, start(["scheduler", "--quiet"], environment, logs)]
    processes += [start(["worker", "--quiet"], environment, logs) for _ in range(workers)]
    processes += api_processes[1:]
    try:
        base = f"http://127.0.0.1:{port}"
        for each, process in zip(ports, api_processes, strict=True):
            wait_until_up(f"http://127.0.0.1:{each}", process)
        answer = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": OPERATOR, "password": PASSWORD}
        )
        answer.raise_for_status()
        yield Running(
            port=port,
            ports=ports,
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
            roles={
                "api": [p.pid for p in api_processes],
                "scheduler": [processes[1].pid],
                "worker": [p.pid for p in processes[2 : 2 + workers]],
            },
            logs=logs,
        )
    except BaseException:
        stop(processes)
        print(f"the service's logs: {logs}", file=sys.stderr)
        raise
    stop(processes)
    shutil.rmtree(logs, ignore_errors=True)  # kept only when something went wrong


@contextmanager
def redis_or_embedded(url: str | None, folder: Path) -> Iterator[str]:
    """``url``, or an embedded Redis in ``folder`` for as long as the block runs."""
    if url is not None:
        yield url
        return
    with EmbeddedRedis(folder / "redis") as embedded:
        yield embedded
