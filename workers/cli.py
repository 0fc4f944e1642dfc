"""The ``dispatch`` command, every sub-command on one screen.

The console script points here because ``serve``, ``worker``, ``scheduler`` and ``demo`` start
workers, and ``dispatch`` may not import ``workers`` (import-linter's layers); the other
sub-commands live in ``dispatch.cli``, one module per area, and are mounted below.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import redis
import typer
from sqlalchemy.exc import OperationalError

from dispatch.bootstrap import Container, bootstrap
from dispatch.cli import (
    apikeys,
    catalogue,
    db,
    privacy,
    projections,
    seal,
    users,
    verify,
)
from dispatch.cli import demo as dispatch_demo
from dispatch.cli.common import fail, settings
from dispatch.delivery.queues import redis_connection
from dispatch.ops.http_server import serve_http
from dispatch.ops.logs import configure_logging
from events import StoreUnavailable
from workers import jobs
from workers.allinone import serve_all_in_one, watch_parent
from workers.scheduler import Periods, Scheduler
from workers.worker import build_worker, keep_working

app = typer.Typer(no_args_is_help=True, help="Street Whistle — 12345 hotline case dispatch")
app.add_typer(db.app, name="db")
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(users.app, name="users")
app.add_typer(apikeys.app, name="apikeys")
app.add_typer(projections.app, name="projections")
app.add_typer(privacy.app, name="privacy")
app.add_typer(seal.app, name="seal")
app.command("verify")(verify.verify)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
) -> None:
    """Run the HTTP API; with no DISPATCH_REDIS_URL, also Redis, a worker and the scheduler."""
    config = settings()
    configure_logging(format=config.log_format, level=config.log_level)
    if config.redis_url:
        serve_http(config, host=host, port=port)
    else:
        serve_all_in_one(config, host=host, port=port)


@app.command("demo")
def demo(
    host: str = dispatch_demo.HostOption,
    port: int = dispatch_demo.PortOption,
    cases: int = dispatch_demo.CasesOption,
    seed: int = dispatch_demo.SeedOption,
    fresh: bool = dispatch_demo.FreshOption,
) -> None:
    """A demo district with users and a month of realistic cases, served all in one."""
    dispatch_demo.prepare_demo(cases=cases, seed=seed, fresh=fresh, host=host, port=port)
    serve(host=host, port=port)


@app.command("worker")
def worker(
    queues: list[str] = typer.Argument(
        None, help="queues to serve; default: routing, timers and every dept:<code>"
    ),
    burst: bool = typer.Option(False, help="stop when the queues are empty"),
    quiet: bool = typer.Option(False, help="log warnings only, not every job"),
) -> None:
    """An RQ worker: routes cases, delivers tasks, raises SLA warnings."""
    container, connection = _connect("worker", quiet=quiet)
    jobs.use_container(container)
    watch_parent()
    try:
        try:
            worker = build_worker(container, connection, queues or ())
        except (OperationalError, StoreUnavailable) as error:
            reason = str(error).strip().splitlines()[0]
            fail(f"cannot read the catalogue's departments from the database: {reason}")
        keep_working(
            worker,
            lambda: build_worker(container, connection, queues or ()),
            burst=burst,
            logging_level="WARNING" if quiet else "INFO",
        )
    finally:
        container.close()


@app.command("scheduler")
def scheduler(quiet: bool = typer.Option(False, help="log warnings only")) -> None:
    """The relay, projections, SLA timers and the reconciler (run two: one is active)."""
    container, connection = _connect("scheduler", quiet=quiet)
    watch_parent()
    # SIGTERM: the loops finish the batch or scan in hand, then the lease is released so a
    # standby takes over at once instead of waiting for it to expire.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        periods = Periods(lease=container.settings.scheduler_lease_seconds)
        Scheduler(container, connection, periods=periods).run(stop)
    finally:
        container.close()


@app.command("bench")
def bench(
    quick: bool = typer.Option(
        False, help="small sizes for a smoke run: 20,000 cases, short phases"
    ),
    cases: int = typer.Option(
        0, show_default=False, help="cases for the KPI, worklist and rebuild parts (1,000,000)"
    ),
    only: str = typer.Option("", help="comma-separated parts: append,intake,inbox,rebuild,kpi"),
    database_url: str = typer.Option(
        "", help="PostgreSQL server for scratch databases (DISPATCH_DATABASE_URL)"
    ),
    redis_url: str = typer.Option(
        "", help="a Redis database the bench may flush (DISPATCH_REDIS_URL)"
    ),
    database: str = typer.Option("", help="reuse this filled database for rebuild and kpi"),
    keep_database: bool = typer.Option(False, help="keep the filled database for reruns"),
    output: Path = typer.Option(None, help="the report (docs/benchmarks.md)"),
    json_path: Path = typer.Option(None, "--json", help="every figure (bench/results/bench.json)"),
) -> None:
    """Measure what ships, each figure beside a raw baseline: one table, docs/benchmarks.md."""
    try:  # the benchmarks live beside the packages in a source checkout, not in a deployment
        from bench.suite import BenchRefused, Options, parts_named, run_suite
    except ModuleNotFoundError as error:
        fail(f"dispatch bench runs from a source checkout with the test extras ({error})")
    if not (database_url and redis_url):
        config = settings()
        database_url = database_url or config.database_url
        redis_url = redis_url or config.redis_url or ""
    try:
        options = Options(
            database_url=database_url,
            redis_url=redis_url,
            quick=quick,
            cases=cases or None,
            only=parts_named(only),
            database=database or None,
            keep_database=keep_database,
            output=output,
            json_path=json_path,
        )
        raise typer.Exit(run_suite(options))
    except BenchRefused as refusal:
        fail(str(refusal))


def _connect(what: str, *, quiet: bool = False) -> tuple[Container, redis.Redis]:
    config = settings()
    configure_logging(format=config.log_format, level="WARNING" if quiet else config.log_level)
    if not config.redis_url:
        fail(
            f"DISPATCH_REDIS_URL is not set; a {what} needs the Redis the API uses "
            "(or run `dispatch serve` without it: the all-in-one mode starts its own)"
        )
    connection = redis_connection(config.redis_url)
    try:
        connection.ping()
    except redis.RedisError as error:
        fail(f"cannot reach Redis at {config.redis_url}: {str(error).splitlines()[0]}")
    return bootstrap(config), connection


def main() -> None:
    app()


if __name__ == "__main__":
    main()
