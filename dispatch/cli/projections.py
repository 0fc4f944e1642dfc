"""``dispatch projections rebuild [NAME]`` · ``status`` · ``catch-up``."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError

from dispatch.cli.common import fail, settings
from dispatch.projections import ProjectionRunner, default_projections
from dispatch.projections.runner import ProjectionBusy
from events.database import make_engine

app = typer.Typer(no_args_is_help=True, help="Read models folded from the event log")


class EventRate(ProgressColumn):
    """Events per second, as rich measures the task's speed over its recent updates."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("—" if speed is None else f"{speed:,.0f} events/s", style="cyan")


def _runner() -> ProjectionRunner:
    runner = ProjectionRunner(make_engine(settings().database_url), default_projections())
    try:
        runner.ensure_tables()
    except OperationalError as error:
        fail(f"cannot reach the database: {str(error.orig).strip().splitlines()[0]}")
    return runner


@app.command("rebuild")
def rebuild(
    name: str | None = typer.Argument(None, help="one projection; all of them when omitted"),
) -> None:
    """Rebuild from position 0 into shadow tables, then swap; the old tables serve meanwhile."""
    runner = _runner()
    try:
        names = [name] if name else [p.name for p in runner.projections]
        for each in names:
            try:
                runner.projection(each)
            except KeyError as error:
                fail(str(error.args[0]))
            _rebuild_one(runner, each)
    finally:
        runner.engine.dispose()


def _rebuild_one(runner: ProjectionRunner, name: str) -> None:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        EventRate(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(name, total=None)

        def report(position: int, head: int) -> None:
            progress.update(task, completed=position, total=head)

        try:
            applied = runner.rebuild(name, progress=report)
        except ProjectionBusy as error:
            fail(str(error))
    elapsed = time.perf_counter() - started
    rate = applied / elapsed if elapsed > 0 else 0.0
    typer.echo(f"{name}: rebuilt from {applied} events in {elapsed:.1f}s ({rate:,.0f} events/s)")


@app.command("status")
def status() -> None:
    """Each projection's checkpoint, lag behind the log and whether its shape is stale."""
    runner = _runner()
    try:
        stale = set(runner.ensure_tables())
        done = runner.checkpoints()
        lag = runner.lag()
    finally:
        runner.engine.dispose()
    table = Table("projection", "version", "checkpoint", "lag", "state")
    for projection in runner.projections:
        state = "needs rebuild" if projection.name in stale else "ok"
        table.add_row(
            projection.name,
            str(projection.version),
            str(done[projection.name]),
            str(lag[projection.name]),
            state,
        )
    Console().print(table)


@app.command("catch-up")
def catch_up(
    name: str | None = typer.Argument(None, help="one projection; all of them when omitted"),
) -> None:
    """Apply the events the projections have not seen yet, then stop."""
    runner = _runner()
    try:
        typer.echo(f"applied {runner.catch_up(name)} events")
    except KeyError as error:
        fail(str(error.args[0]))
    finally:
        runner.engine.dispose()
