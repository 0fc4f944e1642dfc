"""``dispatch catalogue load FILE``, ``check FILE`` and ``versions``."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatch.catalogue import CatalogueError, advisories, parse_catalogue
from dispatch.catalogue.versions import list_versions, load_catalogue
from dispatch.cli.common import container, fail
from events import StoreUnavailable

app = typer.Typer(no_args_is_help=True, help="Departments, grids, categories, routing and SLA")

FileArgument = typer.Argument(..., help="a catalogue in YAML or JSON (DESIGN.md §3)")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}")


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def _database_problem(error: SQLAlchemyError | StoreUnavailable) -> str:
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"the database refused: {cause} (is it reachable and migrated? `dispatch db upgrade`)"


@app.command("load")
def load(
    file: Path = FileArgument,
    by: str | None = typer.Option(None, "--by", help="who loads it (default: cli:<login>)"),
) -> None:
    """Validate FILE and make it the active catalogue version."""
    text = _read(file)
    app_container = container()
    try:
        number, catalogue, warnings = load_catalogue(
            app_container.engine, text, loaded_by=by or _operator(), now=app_container.clock()
        )
    except CatalogueError as error:
        fail(f"{file} was not loaded; {error}")
    except (SQLAlchemyError, StoreUnavailable) as error:
        fail(_database_problem(error))
    finally:
        app_container.close()
    typer.echo(f"loaded catalogue {catalogue.version!r} as version {number}")
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


@app.command("check")
def check(file: Path = FileArgument) -> None:
    """Validate FILE without loading it."""
    try:
        catalogue = parse_catalogue(_read(file))
    except CatalogueError as error:
        fail(f"{file}: {error}")
    typer.echo(f"{file} is a valid catalogue {catalogue.version!r}")
    today = datetime.now(UTC).astimezone(catalogue.zone).date()
    for warning in advisories(catalogue, today=today):
        typer.echo(f"warning: {warning}", err=True)


@app.command("versions")
def versions() -> None:
    """Every loaded version, newest (active) first."""
    app_container = container()
    try:
        rows = list_versions(app_container.engine)
    except (SQLAlchemyError, StoreUnavailable) as error:
        fail(_database_problem(error))
    finally:
        app_container.close()
    for index, row in enumerate(rows):
        active = " (active)" if index == 0 else ""
        loaded = row.loaded_at.isoformat(timespec="seconds")
        typer.echo(f"{row.number}\t{row.label}\t{loaded}\t{row.loaded_by}{active}")
