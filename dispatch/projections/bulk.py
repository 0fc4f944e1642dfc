"""Set-based writes for projections: many rows per statement, on either database.

A rebuild writes millions of rows. On PostgreSQL, ``COPY`` moves them at the server's pace
while an ``executemany`` of INSERTs costs a client round of work per row (psycopg 3 sends
them one by one in a pipeline), and ``= ANY(array)`` takes thousands of keys as one bound
value where ``IN (…)`` expands into one parameter per key. SQLite gets the plain forms, which
it runs in-process and fast.
"""

from __future__ import annotations

import json
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


def add_to(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add ``rows`` into ``table``: a new key is inserted, an existing one gets the values
    added to its columns (the primary key columns identify the row; the others are summed).

    PostgreSQL takes every row in one statement: a JSON array expanded into an upsert (give
    dates and times as ISO text there).
    """
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    names = [column.name for column in table.columns]
    summed = [name for name in names if name not in keys]
    quote = conn.dialect.identifier_preparer.quote
    target = quote(table.name)
    updates = ", ".join(f"{quote(n)} = {target}.{quote(n)} + excluded.{quote(n)}" for n in summed)
    conflict = f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {updates}"
    columns = ", ".join(quote(n) for n in names)
    if _postgres(conn):
        # One JSON document for all rows: encoding it is one C call, where binding a list per
        # column makes the driver dump every element in Python.
        shape = ", ".join(
            f"{quote(n)} {column.type.compile(conn.dialect)}"
            for n, column in zip(names, table.columns, strict=True)
        )
        source = f"SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS r({shape})"
        statement = f"INSERT INTO {target} ({columns}) {source} {conflict}"
        conn.execute(sa.text(statement), {"rows": json.dumps(list(rows))})
        return
    values = ", ".join(f":{n}" for n in names)
    statement = f"INSERT INTO {target} ({columns}) VALUES ({values}) {conflict}"
    conn.execute(sa.text(statement), [dict(row) for row in rows])
