"""``dispatch users add`` · ``list`` · ``disable`` · ``enable`` · ``set-roles`` · ``set-password``.

Disabling, re-roling and a new password end the user's tokens and console sessions at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from dispatch.auth.roles import listed_roles, ordered
from dispatch.auth.staff import KEEP, new_password_hash, set_password_hash, update_user
from dispatch.auth.users import (
    DuplicateUsername,
    InvalidUser,
    User,
    add_user,
    find_user_by_username,
    list_users,
)
from dispatch.cli.common import container, fail

app = typer.Typer(no_args_is_help=True, help="Users and their roles")


def database_problem(error: SQLAlchemyError) -> str:
    """One line for a database failure, with the usual cause named."""
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return f"the database refused: {cause} (is it reachable and migrated? `dispatch db upgrade`)"


PasswordOption = typer.Option(
    ...,
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="at least 8 characters; asked for when omitted, which keeps it out of shell history",
)


def change(username: str, act: Callable[[Connection, User], Any]) -> User:
    """Find ``username`` and apply ``act`` in one transaction; fail with one line."""
    app_container = container()
    try:
        with app_container.engine.begin() as conn:
            user = find_user_by_username(conn, username)
            if user is None:
                fail(f"there is no user {username.strip()!r}; `dispatch users list` shows them")
            act(conn, user)
            changed = find_user_by_username(conn, username)
    except InvalidUser as error:
        fail(f"{error.field}: {error.message}")
    except SQLAlchemyError as error:
        fail(database_problem(error))
    finally:
        app_container.close()
    assert changed is not None
    return changed


@app.command("add")
def add(
    username: str = typer.Argument(..., help="the sign-in name (case-insensitive)"),
    password: str = PasswordOption,
    role: list[str] = typer.Option(
        ..., "--role", help=f"repeat for several: {listed_roles()}", show_default=False
    ),
    department: str | None = typer.Option(None, help="department code; required for liaison"),
    street: str | None = typer.Option(None, help="street code; required for the street role"),
    grid: str | None = typer.Option(None, help="grid code; required for the grid role"),
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
                grid=grid,
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
        binding = user.department or user.street or user.grid or "-"
        status = "active" if user.active else "disabled"
        roles = ",".join(ordered(user.roles))
        typer.echo(f"{user.username:<24} {roles:<32} {binding:<16} {status:<8} {user.display_name}")


@app.command("disable")
def disable(username: str) -> None:
    """Stop a user signing in; their tokens and console sessions end at once."""
    change(username, lambda conn, user: update_user(conn, user.id, active=False))
    typer.echo(f"disabled {username.strip().lower()}; their sessions have ended")


@app.command("enable")
def enable(username: str) -> None:
    """Let a disabled user sign in again (with a new sign-in: old sessions stay ended)."""
    change(username, lambda conn, user: update_user(conn, user.id, active=True))
    typer.echo(f"enabled {username.strip().lower()}")


@app.command("set-roles")
def set_roles(
    username: str,
    role: list[str] = typer.Option(
        ..., "--role", help=f"the full new set; repeat for several: {listed_roles()}"
    ),
    department: str | None = typer.Option(None, help="department code; required for liaison"),
    street: str | None = typer.Option(None, help="street code; required for the street role"),
    grid: str | None = typer.Option(None, help="grid code; required for the grid role"),
) -> None:
    """Replace a user's roles (and binding); their sessions end at once."""
    user = change(
        username,
        lambda conn, user: update_user(
            conn,
            user.id,
            roles=role,
            department=KEEP if department is None else department,
            street=KEEP if street is None else street,
            grid=KEEP if grid is None else grid,
        ),
    )
    binding = user.department or user.street or user.grid
    suffix = f" for {binding}" if binding else ""
    typer.echo(f"{user.username}: {', '.join(ordered(user.roles))}{suffix}; sessions ended")


@app.command("set-password")
def set_password(username: str, password: str = PasswordOption) -> None:
    """Give a user a new password; their sessions end at once."""
    try:
        password_hash = new_password_hash(password)  # before the transaction: argon2 is slow
    except InvalidUser as error:
        fail(f"{error.field}: {error.message}")
    change(username, lambda conn, user: set_password_hash(conn, user.id, password_hash))
    typer.echo(f"new password set for {username.strip().lower()}; their sessions have ended")
