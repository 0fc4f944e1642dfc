"""``dispatch apikeys add NAME`` · ``list`` · ``revoke NAME``: keys of Open311 clients."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatch.auth.apikeys import issue_api_key, list_api_keys, revoke_client_keys
from dispatch.cli.common import container, fail
from dispatch.cli.users import database_problem

CLI_ACTOR = "(cli)"  # the admin log's actor for a change made on the server's command line

app = typer.Typer(no_args_is_help=True, help="Open311 API keys")


@app.command("add")
def add(name: str = typer.Argument(..., help="who the key is for, e.g. the city app")) -> None:
    """Create a key and print it; only its digest is stored, so it cannot be shown again."""
    app_container = container()
    try:
        with app_container.engine.begin() as conn:
            key = issue_api_key(conn, name, actor=CLI_ACTOR, now=app_container.clock())
    except ValueError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        app_container.close()
    typer.echo(key)
    typer.echo(f"API key for {name.strip()!r}: store it now, it is not shown again", err=True)


@app.command("list")
def list_() -> None:
    """Every key ever issued: client, fingerprint, when made, live or revoked."""
    app_container = container()
    try:
        with app_container.engine.connect() as conn:
            found = list_api_keys(conn)
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        app_container.close()
    for key in found:
        status = "live" if key.revoked_at is None else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{key.name:<32} {key.fingerprint}  {key.created_at:%Y-%m-%d %H:%M}  {status}")


@app.command("revoke")
def revoke(name: str = typer.Argument(..., help="the client whose keys stop working")) -> None:
    """Revoke every live key of a client at once; its next Open311 request is refused."""
    app_container = container()
    try:
        with app_container.engine.begin() as conn:
            revoked = revoke_client_keys(conn, name, actor=CLI_ACTOR, now=app_container.clock())
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        app_container.close()
    if not revoked:
        fail(f"{name.strip()!r} holds no live key; `dispatch apikeys list` shows the clients")
    typer.echo(f"revoked {revoked} key(s) of {name.strip()!r}")
