"""What every CLI command shares: settings, the container, and a one-line failure."""

from __future__ import annotations

from typing import NoReturn

import typer
from pydantic import ValidationError

from dispatch.bootstrap import Container, bootstrap
from dispatch.settings import Settings, get_settings


def settings() -> Settings:
    """The settings, or a one-line reason to refuse to start (a short secret key, say)."""
    try:
        return get_settings()
    except ValidationError as error:
        fail(settings_problem(error))


def settings_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"DISPATCH_{field.upper()}: {message}" if field else message


def container() -> Container:
    return bootstrap(settings())


def fail(reason: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {reason}", err=True)
    raise typer.Exit(code)
