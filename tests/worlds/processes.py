"""The production processes as separate OS processes, for the outage and soak tests.

``RedisServer`` is a ``redis-server`` of our own on a random port (never the shared one), to
stop and start again on the same port; ``Dispatch`` starts ``dispatch serve | worker |
scheduler`` against one database and Redis, and kills or restarts any of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
from argon2 import PasswordHasher

from dispatch.auth.users import add_user
from dispatch.catalogue.versions import load_catalogue
from dispatch.ops.embedded_redis import redis_server_binary
from dispatch.ops.migrations import prepare_database
from events.database import make_engine

from worlds.databases import TEST_DATABASE_URL, temporary_database
from worlds.servers import free_port

SAMPLE = Path(__file__).parent.parent.parent / "dispatch/catalogue/samples/sample.yaml"
SECRET = "test-secret-of-at-least-32-bytes-long"
PASSWORD = "correct horse battery staple"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def wait_for(what: str, check: Callable[[], bool], timeout: float, every: float = 0.1) -> float:
    """Poll ``check`` until true; returns the seconds it took, fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(every)
    return time.monotonic() - started


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        connection = redis.Redis.from_url(self.url)
        wait_for("redis-server up", lambda: _pings(connection), timeout=10, every=0.05)

    def stop(self) -> None:
        """Gone at once, its data with it (no persistence): a crash, then an empty Redis."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def _pings(connection: redis.Redis) -> bool:
    try:
        return bool(connection.ping())
    except redis.RedisError:
        return False


@contextmanager
def prepared_database(name: str, folder: Path) -> Iterator[str]:
    """A fresh database (PostgreSQL when the tests have one, else SQLite) with the sample
    catalogue active."""
    with temporary_database(
        TEST_DATABASE_URL, name=name, sqlite_folder=folder, migrate=prepare_database
    ) as url:
        engine = make_engine(url)
        load_catalogue(engine, SAMPLE.read_text(encoding="utf-8"), loaded_by="tests")
        engine.dispose()
        yield url


def add_staff(url: str, username: str, *roles: str, department: str | None = None) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        add_user(
            conn,
            username=username,
            password=PASSWORD,
            roles=roles,
            department=department,
            hasher=FAST_HASHER,
        )
    engine.dispose()


class Dispatch:
    """``dispatch`` sub-commands as child processes, their output in ``logs``."""

    def __init__(self, database_url: str, redis_url: str, logs: Path, **settings: str) -> None:
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "DISPATCH_DATABASE_URL": database_url,
            "DISPATCH_REDIS_URL": redis_url,
            "DISPATCH_SECRET_KEY": SECRET,
            **{f"DISPATCH_{k.upper()}": v for k, v in settings.items()},
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def start(self, name: str, *arguments: str) -> subprocess.Popen[bytes]:
        if arguments[0] == "serve":
            self.ports.setdefault(name, free_port())
            arguments = (*arguments, "--port", str(self.ports[name]))
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "workers", *arguments],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        if arguments[0] == "serve":
            base = self.base(name)
            try:
                wait_for(f"{name} serving", lambda: self._up(name, base), timeout=180, every=0.1)
            except AssertionError as error:
                raise AssertionError(f"{error}; its log ends:\n{self.log_tail(name)}") from None
        return process

    def _up(self, name: str, base: str) -> bool:
        if self.processes[name].poll() is not None:
            raise AssertionError(f"{name} exited with {self.processes[name].returncode}")
        return _answers(base)

    def log_tail(self, name: str, lines: int = 30) -> str:
        text = (self.logs / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def base(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM to all, SIGKILL to any still running after ``grace`` seconds (graceful
        shutdown is not what these tests are about)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
