"""What every CLI command shares: settings, the container, and a one-line failure."""

from __future__ import annotations

from typing import NoReturn

import typer

from dispatch.bootstrap import Container, bootstrap
from dispatch.settings import Settings, get_settings


def settings() -> Settings:
    return get_settings()


def container() -> Container:
    return bootstrap(get_settings())


def fail(reason: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {reason}", err=True)
    raise typer.Exit(code)
