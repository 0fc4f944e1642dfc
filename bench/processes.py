"""CPU time and memory of the processes a run involves, read from the OS (psutil).

The machine is shared: other helpers' tests use the same PostgreSQL server and Redis. So the
PostgreSQL processes counted are the backends of the run's own database (their title names it)
and the server's background processes (checkpointer, WAL writer, …: shared, so a little of a
neighbour's work is in there); other databases' backends are left out. Redis is one process
for every user of it, and is counted whole.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psutil
import redis

# Cumulative CPU seconds of each member of a group (process id, or thread id), right now.
Reading = dict[int, float]
Source = Callable[[], Reading]

POSTGRES_BACKGROUND = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum launcher",
    "logical replication launcher",
    "stats collector",
    "archiver",
)


def process_cpu(process: psutil.Process) -> float:
    """User + system seconds of the process itself. Not its reaped children's: for the
    postmaster those are every ended backend's, of every database on the server."""
    times = process.cpu_times()
    return float(times.user + times.system)


def processes(pids: Iterable[int]) -> Source:
    """The processes with these ids (gone ones simply stop reporting)."""
    chosen: list[psutil.Process] = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            chosen.append(psutil.Process(pid))

    def read() -> Reading:
        reading: Reading = {}
        for process in chosen:
            with contextlib.suppress(psutil.Error):
                reading[process.pid] = process_cpu(process)
        return reading

    return read


def threads(native_ids: set[int]) -> Source:
    """Threads of this process, by native id (``threading.get_native_id()``)."""

    def read() -> Reading:
        return {
            t.id: t.user_time + t.system_time
            for t in psutil.Process().threads()
            if t.id in native_ids
        }

    return read


def other_threads(native_ids: set[int]) -> Source:
    """Threads of this process other than these (the load client beside the raw hop)."""

    def read() -> Reading:
        return {
            t.id: t.user_time + t.system_time
            for t in psutil.Process().threads()
            if t.id not in native_ids
        }

    return read


def combined(*sources: Source) -> Source:
    def read() -> Reading:
        reading: Reading = {}
        for source in sources:
            reading |= source()
        return reading

    return read


def postgres_role(title: str, database: str) -> str | None:
    """``backend`` for a process of ``database``, ``background`` for the server's own
    processes (the postmaster too), None for another database's backend."""
    words = title.split()
    if not words:
        return None
    if database in words:
        return "backend"
    if words[0] != "postgres:":  # the postmaster keeps its command line
        return "background"
    rest = " ".join(words[1:])
    return "background" if any(rest.endswith(name) for name in POSTGRES_BACKGROUND) else None


def postgres(database: str, role: str, *, excluded: set[int] | None = None) -> Source:
    """PostgreSQL processes on this machine in ``role`` (see ``postgres_role``). Each process
    is judged once, when first seen: polling every half second must stay cheap."""
    left_out = excluded or set()
    judged: dict[int, psutil.Process | None] = {}

    def judge(pid: int) -> psutil.Process | None:
        try:
            process = psutil.Process(pid)
            if not process.name().startswith("postgres"):
                return None
            title = " ".join(process.cmdline())
        except psutil.Error:
            return None
        return process if postgres_role(title, database) == role else None

    def read() -> Reading:
        reading: Reading = {}
        for pid in psutil.pids():
            if pid in left_out:
                continue
            if pid not in judged:
                judged[pid] = judge(pid)
            process = judged[pid]
            if process is not None:
                with contextlib.suppress(psutil.Error):
                    reading[pid] = process_cpu(process)
        return reading

    return read


def redis_server_pid(url: str) -> int | None:
    """The redis-server process behind ``url``, if it runs on this machine."""
    connection = redis.Redis.from_url(url)
    try:
        pid = int(connection.info("server")["process_id"])
    finally:
        connection.close()
    try:
        name = psutil.Process(pid).name()
    except psutil.Error:
        return None
    return pid if "redis" in name else None  # another pid namespace (a container): not ours


@dataclass
class Group:
    """One line of the CPU table: its source and the readings the window keeps."""

    source: Source
    counted: bool = True
    opened: Reading = field(default_factory=dict)
    last: Reading = field(default_factory=dict)

    def seconds(self) -> float:
        # A member that appeared after the window opened counts from zero; one that went away
        # counts up to its last reading.
        return sum(cpu - self.opened.get(key, 0.0) for key, cpu in self.last.items())


class CpuWindow:
    """CPU seconds of each group between ``open()`` and ``close()``, polled meanwhile so that
    a process that ends inside the window still counts up to its last reading."""

    def __init__(self, groups: dict[str, Group]) -> None:
        self.groups = groups
        self.lock = threading.Lock()  # the sampler thread polls while the run opens/closes
        self.is_open = False
        self.opened_at = self.closed_at = 0.0

    def open(self) -> None:
        with self.lock:
            for group in self.groups.values():
                group.opened = group.source()
                group.last = dict(group.opened)
            self.opened_at = time.monotonic()
            self.is_open = True

    def poll(self) -> None:
        with self.lock:
            if self.is_open:
                for group in self.groups.values():
                    group.last |= group.source()

    def close(self) -> None:
        self.poll()
        with self.lock:
            self.is_open = False
            self.closed_at = time.monotonic()

    def per_item_ms(self, items: int) -> dict[str, float | None]:
        """Milliseconds of CPU per item for each group, ``total`` over the counted ones."""
        figures: dict[str, float | None] = {}
        total = 0.0
        for name, group in self.groups.items():
            seconds = group.seconds()
            figures[name] = round(seconds * 1000 / items, 3) if items else None
            total += seconds if group.counted else 0.0
        figures["total"] = round(total * 1000 / items, 3) if items else None
        return figures

    def counted(self) -> list[str]:
        return [name for name, group in self.groups.items() if group.counted]


class Sampler(threading.Thread):
    """Every ``interval`` seconds: each role's resident memory (the peak is kept) and a poll
    of the CPU window, if one is given."""

    def __init__(
        self, roles: dict[str, list[int]], window: CpuWindow | None, interval: float = 0.5
    ) -> None:
        super().__init__(daemon=True)
        self.roles = roles
        self.window = window
        self.interval = interval
        self.processes: dict[int, psutil.Process] = {}
        self.peak_rss: dict[str, int] = {}
        self.stopping = threading.Event()

    def sample(self) -> None:
        for role, pids in self.roles.items():
            for pid in pids:
                try:
                    if pid not in self.processes:
                        self.processes[pid] = psutil.Process(pid)
                    rss = self.processes[pid].memory_info().rss
                except psutil.Error:
                    continue
                self.peak_rss[role] = max(self.peak_rss.get(role, 0), rss)
        if self.window is not None:
            self.window.poll()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.sample()

    def stop(self) -> dict[str, float]:
        """Stop sampling; the peaks in MB."""
        self.stopping.set()
        self.join(timeout=5)
        return {role: round(rss / 2**20, 1) for role, rss in sorted(self.peak_rss.items())}
