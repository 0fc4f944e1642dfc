"""The machine a run measured: figures mean little without it."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from events.database import make_engine

ROOT = Path(__file__).resolve().parent.parent


def cpu(cpuinfo: str) -> tuple[str, int]:
    """The CPU's model name and how many logical processors ``/proc/cpuinfo`` lists."""
    model, count = "unknown", 0
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "processor":
            count += 1
        elif key.strip() == "model name" and model == "unknown":
            model = value.strip()
    return model, count or (os.cpu_count() or 0)


def memory_gb(meminfo: str) -> float | None:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20, 1)  # kB → GB
    return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def git_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{commit} (uncommitted changes)" if git("status", "--porcelain") else commit


def postgres_version(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def redis_version(redis_url: str) -> str:
    connection = redis.Redis.from_url(redis_url)
    try:
        return str(connection.info("server")["redis_version"])
    finally:
        connection.close()


def describe(database_url: str, redis_url: str) -> dict[str, Any]:
    model, count = cpu(_read("/proc/cpuinfo"))
    return {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "commit": git_commit(),
        "cpu": model,
        "cpus": count,
        "memory_gb": memory_gb(_read("/proc/meminfo")),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": postgres_version(database_url),
        "redis": redis_version(redis_url),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
