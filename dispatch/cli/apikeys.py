"""``dispatch apikeys add NAME``: a key for an Open311 client."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatch.auth.apikeys import add_api_key
from dispatch.cli.common import container, fail
from dispatch.cli.users import database_problem

app = typer.Typer(no_args_is_help=True, help="Open311 API keys")


@app.command("add")
def add(name: str = typer.Argument(..., help="who the key is for, e.g. the city app")) -> None:
    """Create a key and print it; only its digest is stored, so it cannot be shown again."""
    app_container = container()
    try:
        with app_container.engine.begin() as conn:
            key = add_api_key(conn, name, now=app_container.clock())
    except ValueError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        app_container.close()
    typer.echo(key)
    typer.echo(f"API key for {name.strip()!r}: store it now, it is not shown again", err=True)
