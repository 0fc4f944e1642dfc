"""``dispatch demo``'s preparation: a fictional district's 12345 centre with a month of history.

``workers.cli`` serves it afterwards, all in one.

The database is ``demo.db`` in the working directory unless ``DISPATCH_DATABASE_URL`` names
another. An empty database gets the demo catalogue and a month of cases; one that already
holds the demo is reused as it is (``--fresh`` deletes a SQLite demo file and starts over);
one holding anything else is refused, so the demo's users can never land in a real centre.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import typer
from argon2 import PasswordHasher

from dispatch.auth.passwords import DEFAULT_HASHER
from dispatch.bootstrap import bootstrap
from dispatch.catalogue.versions import active_catalogue
from dispatch.cli.common import fail, settings
from dispatch.demo.agenda import DemoClock
from dispatch.demo.history import DEMO_VERSION, HistoryReport, has_history, write_history
from dispatch.demo.users import OPEN311_CLIENT, Credentials, ensure_users, fresh_api_key
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings, get_settings

DEMO_DATABASE = "sqlite:///./demo.db"
DEFAULT_CASES = 3000

HostOption = typer.Option("127.0.0.1", help="address to listen on")
PortOption = typer.Option(8000, help="port to listen on")
CasesOption = typer.Option(DEFAULT_CASES, min=1, max=100_000, help="complaints in the month")
SeedOption = typer.Option(12345, help="seed of the random history (same seed, same story)")
FreshOption = typer.Option(False, "--fresh", help="delete the SQLite demo database first")


def prepare_demo(
    *,
    cases: int,
    seed: int,
    fresh: bool,
    host: str,
    port: int,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> Settings:
    """Everything before serving; leaves DISPATCH_DATABASE_URL set for the server (and the
    worker processes it starts) and returns the settings it used."""
    base = settings()
    url = base.database_url if "database_url" in base.model_fields_set else DEMO_DATABASE
    if fresh:
        remove_demo_database(url)
    os.environ["DISPATCH_DATABASE_URL"] = url
    get_settings.cache_clear()
    config = settings()
    clock = DemoClock(datetime.now(UTC))
    container = bootstrap(config, clock=clock)
    try:
        check_is_demo(container.engine, url)
        prepare_database(container.engine, phone_key=config.phone_index_key())
        if has_history(container):
            typer.echo(f"Reusing the demo in {url} (dispatch demo --fresh starts over)")
        else:
            typer.echo(f"Writing {cases} cases of history into {url} …")
            report = write_history(
                container, clock, cases=cases, seed=seed, end=clock.now, progress=say_day
            )
            say_history(report)
        active = active_catalogue(container.engine)
        assert active is not None
        now = datetime.now(UTC)
        say_credentials(
            ensure_users(container.engine, active[1], now=now, hasher=hasher),
            fresh_api_key(container.engine, now=now),
            base=f"http://{host}:{port}",
        )
    finally:
        container.close()
    return config


def check_is_demo(engine: sa.Engine, url: str) -> None:
    """Go on only with an empty database or a demo one: the demo makes an admin whose
    password it prints, which must never happen to a real centre's database."""
    tables = set(sa.inspect(engine).get_table_names())
    if not tables & {"catalogue_versions", "users", "events"}:
        return
    active = active_catalogue(engine) if "catalogue_versions" in tables else None
    if active is not None and active[1].version == DEMO_VERSION:
        return
    with engine.connect() as conn:
        used = [
            table
            for table in ("events", "users", "catalogue_versions")
            if table in tables
            and conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar()
        ]
    if used:
        fail(
            f"{url} is not a demo database (it has {', '.join(used)}); unset "
            "DISPATCH_DATABASE_URL to use ./demo.db, or point it at an empty database"
        )


def remove_demo_database(url: str) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        fail("--fresh deletes a SQLite demo file only; drop and recreate a PostgreSQL database")
    path = Path(parsed.database)
    if path.exists():
        engine = sa.create_engine(url)
        try:
            check_is_demo(engine, url)
        finally:
            engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def say_day(moment: datetime) -> None:
    typer.echo(f"  … {moment.astimezone():%Y-%m-%d}")


def say_history(report: HistoryReport) -> None:
    mix = " · ".join(f"{status} {count}" for status, count in sorted(report.statuses.items()))
    typer.echo(
        f"  {report.cases} cases, {report.events} events, {report.start:%Y-%m-%d} to "
        f"{report.end:%Y-%m-%d}, written in {report.seconds:.1f} s"
    )
    typer.echo(f"  {mix} · overdue now {report.open_overdue}")


def say_credentials(issued: list[Credentials], api_key: str, *, base: str) -> None:
    typer.echo(f"\nConsole: {base}/   API docs: {base}/docs   Open311: {base}/open311/v2/")
    typer.echo("Sign in as (passwords are new on every start):")
    width = max(len(item.user.username) for item in issued)
    for item in issued:
        typer.echo(
            f"  {item.user.role:<10} {item.user.username:<{width}}  {item.password}  "
            f"{item.user.display_name}"
        )
    typer.echo(f"Open311 api_key ({OPEN311_CLIENT}): {api_key}\n")
