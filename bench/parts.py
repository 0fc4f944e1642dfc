"""The parts of ``dispatch bench``, each the script that measures it, at the run's sizes.

Every part gets scratch databases of its own on the PostgreSQL server (dropped afterwards),
except rebuild and kpi, which share one database filled once with N realistic cases
(``filled_database``; ``--database`` reuses one, ``--keep-database`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

from bench.kpi_cases import fill, scratch_database
from dispatch.ops.migrations import prepare_database
from events.database import make_engine


@dataclass(frozen=True)
class Sizes:
    label: str
    cases: int  # for the KPI, worklist and rebuild parts
    append_seconds: float  # each raw or store phase
    append_rounds: int
    inbox_seconds: float
    raw_hop_seconds: float
    step_seconds: float  # each intake capacity step
    kpi_runs: int
    inbox_rate: float = 100.0
    inbox_workers: int = 2
    append_writers: int = 8
    month: str = "2026-10"

    def describe(self) -> str:
        return (
            f"{self.label} sizes: {self.cases:,} cases, append {self.append_rounds} × "
            f"{self.append_seconds:g} s, intake steps of {self.step_seconds:g} s, inbox "
            f"{self.inbox_rate:g}/s for {self.inbox_seconds:g} s, {self.kpi_runs} runs a query"
        )


FULL = Sizes("full", 1_000_000, 5, 3, 60, 20, 5, 50)
QUICK = Sizes("quick", 20_000, 2, 1, 10, 5, 2, 10)


def sizes_for(quick: bool, cases: int | None) -> Sizes:
    chosen = QUICK if quick else FULL
    return replace(chosen, cases=cases) if cases else chosen


@dataclass
class Setup:
    server_url: str  # PostgreSQL server for scratch databases
    redis_url: str  # a Redis database the bench may flush
    sizes: Sizes
    database: str | None = None  # a filled database to reuse (rebuild, kpi)
    keep_database: bool = False


def append(setup: Setup, _filled: Callable[[], str]) -> dict[str, Any]:
    from bench.append_throughput import measure, migrate

    s = setup.sizes
    with scratch_database(setup.server_url, migrate=migrate) as url:
        figures = measure(
            url,
            writers=s.append_writers,
            seconds=s.append_seconds,
            rounds=s.append_rounds,
            warmup=min(2.0, s.append_seconds),
            events_per_stream=20,
        )
    return {**asdict(figures), "target_met": figures.met}


def intake(setup: Setup, _filled: Callable[[], str]) -> dict[str, Any]:
    from bench.capacity import RATES
    from bench.intake_capacity import run

    args = argparse.Namespace(
        step_seconds=setup.sizes.step_seconds, refine=1, rates=list(RATES), apis2=True
    )
    with scratch_database(setup.server_url) as url:
        return run(url, setup.redis_url, args)


def inbox(setup: Setup, _filled: Callable[[], str]) -> dict[str, Any]:
    from bench.inbox_latency import options, run

    s = setup.sizes
    args = options(
        [
            f"--rate={s.inbox_rate:g}",
            f"--seconds={s.inbox_seconds:g}",
            f"--baseline-seconds={s.raw_hop_seconds:g}",
            f"--workers={s.inbox_workers}",
        ]
    )
    with scratch_database(setup.server_url) as url:
        return run(args, url, setup.redis_url)


def rebuild(setup: Setup, filled: Callable[[], str]) -> dict[str, Any]:
    """In a process of its own, so that its peak memory is the rebuild's alone."""
    url = filled()
    command = [sys.executable, "-m", "bench.rebuild", "--database", url, "--json", "-"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench.rebuild exited {done.returncode}:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def kpi(setup: Setup, filled: Callable[[], str]) -> dict[str, Any]:
    from bench.kpi_query import measure

    figures: dict[str, Any] = measure(filled(), setup.sizes.month, setup.sizes.kpi_runs)
    return figures


PARTS: dict[str, Callable[[Setup, Callable[[], str]], dict[str, Any]]] = {
    "append": append,
    "intake": intake,
    "inbox": inbox,
    "rebuild": rebuild,
    "kpi": kpi,
}


def fill_scratch(url: str, cases: int, say: Callable[[str], None]) -> str:
    engine = make_engine(url)
    prepare_database(engine)
    engine.dispose()
    started = time.perf_counter()
    written = fill(url, cases)
    say(f"filled {written:,} events ({cases:,} cases) in {time.perf_counter() - started:.0f} s")
    return url


@contextmanager
def filled_database(setup: Setup, say: Callable[[str], None]) -> Iterator[Callable[[], str]]:
    """``filled()``: the URL of a database holding ``sizes.cases`` cases, filled at the first
    call (or ``setup.database`` as it is); dropped on leaving unless kept."""
    with ExitStack() as stack:
        chosen: list[str] = []

        def filled() -> str:
            if not chosen:
                if setup.database:
                    chosen.append(setup.database)
                else:
                    scratch = scratch_database(setup.server_url, keep=setup.keep_database)
                    url = stack.enter_context(scratch)
                    if setup.keep_database:
                        say(f"database kept: {url} (reuse it with --database)")
                    chosen.append(fill_scratch(url, setup.sizes.cases, say))
            return chosen[0]

        yield filled
