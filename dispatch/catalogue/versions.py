"""Numbered catalogue versions in the database; the highest number is the active one.

A load validates first and stores nothing when the catalogue is refused, so the previous
version stays active. ``active_catalogue`` is called on every request and every routing job:
it costs one ``max(number)`` query, and parses a stored catalogue only when a new one appeared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from dispatch.catalogue.consistency import advisories
from dispatch.catalogue.model import Catalogue
from dispatch.catalogue.parser import parse_catalogue
from events import StoreUnavailable
from events.database import read_only_connection

metadata = sa.MetaData()

catalogue_versions = sa.Table(
    "catalogue_versions",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("loaded_by", sa.String(128), nullable=False),
    sa.Column("warnings", sa.JSON, nullable=False),
    sqlite_autoincrement=True,
)


@dataclass(frozen=True, slots=True)
class CatalogueVersion:
    number: int
    label: str
    loaded_at: datetime
    loaded_by: str
    warnings: list[str]


# The active version per database (by URL: every engine of this process on one database
# shares it, so a load through any of them is seen at once), with when it was last asked for.
_active: dict[str, tuple[int, Catalogue, float]] = {}
RECHECK = 1.0  # seconds
_lock = threading.Lock()


def load_catalogue(
    engine: Engine,
    text: str,
    *,
    loaded_by: str,
    now: datetime | None = None,
    recorded: Callable[[Connection, int, Catalogue], None] | None = None,
) -> tuple[int, Catalogue, list[str]]:
    """Validate ``text`` and store it as the next version: ``(number, catalogue, warnings)``.

    ``recorded`` runs in the same transaction once the version has its number (the admin
    log's row). Raises ``CatalogueError`` (nothing stored) when the catalogue is invalid.
    """
    catalogue = parse_catalogue(text)
    loaded_at = (now or datetime.now(UTC)).astimezone(UTC)
    warnings = advisories(catalogue, today=loaded_at.astimezone(catalogue.zone).date())
    with _unavailable_as_error(), engine.begin() as conn:
        result = conn.execute(
            catalogue_versions.insert().values(
                label=catalogue.version,
                body=catalogue.model_dump(mode="json"),
                source=text,
                loaded_at=loaded_at,
                loaded_by=loaded_by,
                warnings=warnings,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # a single-row INSERT always has one
        number = int(key[0])
        if recorded is not None:
            recorded(conn, number, catalogue)
    with _lock:
        _active[_key(engine)] = (number, catalogue, time.monotonic())
    return number, catalogue, warnings


# A stored version was checked by the rules of the day it was loaded; reading it back must
# not fail because a later release made a load-time rule stricter (webhook secrets, https).
STORED = {"stored": True}


def active_catalogue(engine: Engine) -> tuple[int, Catalogue] | None:
    """The highest-numbered version, or ``None`` before the first load.

    Every command asks; the version number is read at most once every ``RECHECK`` seconds
    per database (each read was a tenth of a routing job's CPU). A version loaded by this
    process is current at once; one loaded by another process within ``RECHECK``.
    """
    key = _key(engine)
    with _lock:
        cached = _active.get(key)
    if cached is not None and time.monotonic() - cached[2] < RECHECK:
        return cached[0], cached[1]
    with _reading(engine) as conn:
        number = conn.execute(sa.select(sa.func.max(catalogue_versions.c.number))).scalar()
        if number is None:
            return None
        if cached is not None and cached[0] == number:
            catalogue = cached[1]
        else:
            body = conn.execute(
                sa.select(catalogue_versions.c.body).where(catalogue_versions.c.number == number)
            ).scalar_one()
            catalogue = Catalogue.model_validate(body, context=STORED)
    with _lock:
        _active[key] = (int(number), catalogue, time.monotonic())
    return int(number), catalogue


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def catalogue_version(engine: Engine, number: int) -> Catalogue | None:
    """A stored version by number: what a past dispatch was decided with."""
    with _reading(engine) as conn:
        body = conn.execute(
            sa.select(catalogue_versions.c.body).where(catalogue_versions.c.number == number)
        ).scalar()
    return None if body is None else Catalogue.model_validate(body, context=STORED)


def list_versions(engine: Engine) -> list[CatalogueVersion]:
    """Every version, newest first, without the bodies."""
    table = catalogue_versions.c
    query = sa.select(table.number, table.label, table.loaded_at, table.loaded_by, table.warnings)
    with _reading(engine) as conn:
        rows = conn.execute(query.order_by(table.number.desc())).all()
    return [
        CatalogueVersion(
            number=row.number,
            label=row.label,
            loaded_at=_utc(row.loaded_at),
            loaded_by=row.loaded_by,
            warnings=list(row.warnings or []),
        )
        for row in rows
    ]


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    # read_only: on SQLite the connection begins deferred and does not queue behind writers.
    with _unavailable_as_error(), read_only_connection(engine) as conn:
        yield conn


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    """A database that cannot be reached is ``StoreUnavailable`` (503), as for the event store."""
    try:
        yield
    except OperationalError as error:
        raise StoreUnavailable(str(error.orig)) from error


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
