"""``dispatch db upgrade``."""

from __future__ import annotations

import typer
from sqlalchemy.exc import OperationalError

from dispatch.cli.common import fail, settings
from dispatch.ops.migrations import prepare_database
from events.database import make_engine

app = typer.Typer(no_args_is_help=True, help="Database schema")


@app.command("upgrade")
def upgrade() -> None:
    """Apply every migration to DISPATCH_DATABASE_URL."""
    config = settings()
    engine = make_engine(config.database_url)
    try:
        prepare_database(engine, phone_key=config.phone_index_key())
    except OperationalError as error:
        fail(f"cannot reach the database: {str(error.orig).strip().splitlines()[0]}")
    finally:
        engine.dispose()
    typer.echo("database is up to date")
