"""Set-based writes for projections: many rows per statement, on either database.

A rebuild writes millions of rows. On PostgreSQL, ``COPY`` moves them at the server's pace
while an ``executemany`` of INSERTs costs a client round of work per row (psycopg 3 sends
them one by one in a pipeline), and ``= ANY(array)`` takes thousands of keys as one bound
value where ``IN (…)`` expands into one parameter per key. SQLite gets the plain forms, which
it runs in-process and fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

# Keys per IN list on SQLite: under its bound-parameter limit on old builds.
SQLITE_CHUNK = 900


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def key_chunks(conn: Connection, keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """The keys in as few pieces as the database takes in one statement."""
    size = (len(keys) or 1) if _postgres(conn) else SQLITE_CHUNK
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def among(conn: Connection, column: sa.Column[Any], keys: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN keys``, as ``column = ANY(:keys)`` on PostgreSQL."""
    if _postgres(conn):
        array = sa.bindparam(None, list(keys), type_=ARRAY(column.type))
        return column == sa.any_(array)
    return column.in_(list(keys))


def delete_keys(conn: Connection, table: sa.Table, column: str, keys: Sequence[Any]) -> None:
    for part in key_chunks(conn, keys):
        conn.execute(table.delete().where(among(conn, table.c[column], part)))


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts holding every column): ``COPY`` on PostgreSQL."""
    if not rows:
        return
    if not _postgres(conn):
        conn.execute(table.insert(), list(rows))
        return
    names = [column.name for column in table.columns]
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])
    finally:
        cursor.close()
