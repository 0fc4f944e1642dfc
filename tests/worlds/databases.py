"""Throwaway databases, for the tests and the bench scripts alike.

``DISPATCH_TEST_DATABASE_URL`` names the tests' PostgreSQL server; unset (or not PostgreSQL),
tests use SQLite files. The tests import this module as ``worlds.databases``; the bench scripts,
which need PostgreSQL, as ``tests.worlds.databases`` with the repository root on ``sys.path``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.database import make_engine, normalise_url

TEST_DATABASE_URL = os.environ.get("DISPATCH_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres", "postgresql"))


@contextmanager
def temporary_database(
    server_url: str,
    *,
    name: str,
    sqlite_folder: Path | None = None,
    migrate: Callable[[Engine], object] | None = None,
    keep: bool = False,
) -> Iterator[str]:
    """A fresh database: ``sw_<name>_<random>`` on the PostgreSQL server ``server_url`` names,
    dropped afterwards unless ``keep``; for any other URL, the SQLite file ``<name>.db`` in
    ``sqlite_folder``. ``migrate(engine)`` runs on it before it is handed out."""
    if not server_url.startswith(("postgres", "postgresql")):
        if sqlite_folder is None:
            raise ValueError(f"{server_url!r} is not a PostgreSQL server: pass a sqlite_folder")
        url = f"sqlite:///{sqlite_folder / f'{name}.db'}"
        _migrate(url, migrate)
        yield url
        return
    server = sa.make_url(normalise_url(server_url))
    database = f"sw_{name}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    try:
        url = server.set(database=database).render_as_string(hide_password=False)
        _migrate(url, migrate)
        yield url
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def _migrate(url: str, migrate: Callable[[Engine], object] | None) -> None:
    if migrate is None:
        return
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
