"""The index behind the case list's ``q``: trigrams (``pg_trgm``) on PostgreSQL.

``q`` is a substring match (``LIKE '%…%'``), which a B-tree cannot serve; a GIN trigram index
can. It is declared with the table, so it is created wherever the table is: by
``ensure_tables`` (also on a table made before the index existed) and on a rebuild's shadow.
``pg_trgm`` ships with PostgreSQL but ``CREATE EXTENSION`` needs a
privileged role: when the extension is missing and cannot be created, the index is skipped
with a warning — search still works, by a scan — and a DBA can run
``CREATE EXTENSION pg_trgm``; the next start (or a rebuild) creates the index.
SQLite gets no such index (it has no trigram index type).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)


def trigram_index(name: str, column: sa.Column[Any]) -> sa.Index:
    index = sa.Index(
        name, column, postgresql_using="gin", postgresql_ops={column.name: "gin_trgm_ops"}
    )
    return index.ddl_if(dialect="postgresql", callable_=_trigrams_available)


def _trigrams_available(
    ddl: Any,
    target: Any,
    bind: Connection | None,
    tables: Any = None,
    state: Any = None,
    **_kw: Any,
) -> bool:
    """``ddl_if``'s test: pg_trgm is there, created now if this role may create it."""
    if bind is None:
        return False
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as error:
        log.info("CREATE EXTENSION pg_trgm refused: %s", type(error.orig).__name__)
    installed = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if installed.first() is None:
        log.warning(
            "pg_trgm is not installed and this role may not install it: the case search runs "
            "without its index; ask a DBA for CREATE EXTENSION pg_trgm, then restart the service"
        )
        return False
    return True
