"""``dispatch users add`` and ``dispatch users list``."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatch.auth.roles import listed_roles, ordered
from dispatch.auth.users import DuplicateUsername, InvalidUser, add_user, list_users
from dispatch.cli.common import container, fail

app = typer.Typer(no_args_is_help=True, help="Users and their roles")


def database_problem(error: SQLAlchemyError) -> str:
    """One line for a database failure, with the usual cause named."""
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"the database refused: {cause} (is it reachable and migrated? `dispatch db upgrade`)"


@app.command("add")
def add(
    username: str = typer.Argument(..., help="the sign-in name (case-insensitive)"),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="at least 8 characters; asked for when omitted, which keeps it out of shell history",
    ),
    role: list[str] = typer.Option(
        ..., "--role", help=f"repeat for several: {listed_roles()}", show_default=False
    ),
    department: str | None = typer.Option(None, help="department code; required for liaison"),
    street: str | None = typer.Option(None, help="street code; required for the street role"),
    display_name: str | None = typer.Option(None, "--display-name", help="shown in the console"),
) -> None:
    """Create a user with one or more roles."""
    app_container = container()
    try:
        with app_container.engine.begin() as conn:
            user = add_user(
                conn,
                username=username,
                password=password,
                roles=role,
                display_name=display_name,
                department=department,
                street=street,
                now=app_container.clock(),
            )
    except InvalidUser as error:
        fail(f"{error.field}: {error.message}")
    except DuplicateUsername as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        app_container.close()
    typer.echo(f"added {user.username} ({', '.join(ordered(user.roles))}) as {user.id}")


@app.command("list")
def list_() -> None:
    """Every user with roles, binding and status, one per line."""
    app_container = container()
    try:
        with app_container.engine.connect() as conn:
            found = list_users(conn)
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        app_container.close()
    for user in found:
        binding = user.department or user.street or "-"
        status = "active" if user.active else "disabled"
        roles = ",".join(ordered(user.roles))
        typer.echo(f"{user.username:<24} {roles:<32} {binding:<16} {status:<8} {user.display_name}")
