"""Set-based writes for projections: many rows per statement, on either database.

A rebuild writes millions of rows. On PostgreSQL, ``COPY`` moves them at the server's pace
while an ``executemany`` of INSERTs costs a client round of work per row (psycopg 3 sends
them one by one in a pipeline), and ``= ANY(array)`` takes thousands of keys as one bound
value where ``IN (…)`` expands into one parameter per key. SQLite gets the plain forms, which
it runs in-process and fast.

A live catch-up writes a handful of rows per batch, and there ``COPY`` is the slow way: it
is a round trip of its own (and an upsert through ``COPY`` needs a temporary table, two
more), each costing milliseconds on a busy server. Up to ``VALUES_LIMIT`` bound values one
multi-row ``INSERT … VALUES`` does the whole write in one statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

Values = Sequence[Any]  # one row's values, in the order of the column names given with it
# Column name → type oid, per table definition (a rebuild's shadow has the live types).
_COLUMN_TYPES: WeakKeyDictionary[sa.Table, dict[str, int]] = WeakKeyDictionary()

# Keys per IN list on SQLite: under its bound-parameter limit on old builds.
SQLITE_CHUNK = 900
# Up to this many bound values (rows × columns) a write is one multi-row INSERT, beyond it
# COPY. The driver adapts every bound value in turn (~2 µs each), so the INSERT's cost grows
# with rows × columns while COPY's four round trips cost about the same for any small batch:
# ``bench/bulk_write.py`` puts the crossover at 30-40 case-list rows (34 columns each).
VALUES_LIMIT = 1_000


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


def few(rows: Sequence[Any], names: Sequence[str]) -> bool:
    """Few enough values for one multi-row INSERT (see ``VALUES_LIMIT``)."""
    return len(rows) * len(names) <= VALUES_LIMIT


def insert_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts holding every column): on PostgreSQL one multi-row INSERT for
    a few rows, ``COPY`` for many."""
    if not rows:
        return
    if not _postgres(conn):
        conn.execute(table.insert(), list(rows))
        return
    names = [column.name for column in table.columns]
    values = list(map(itemgetter(*names), rows))
    if few(rows, names):
        insert_values(conn, table.name, names, values)
    else:
        copy_rows(conn, table, names, values)


def upsert_rows(
    conn: Connection, table: sa.Table, names: Sequence[str], rows: Sequence[Values], conflict: str
) -> None:
    """PostgreSQL: ``INSERT … conflict`` of ``rows`` (values in ``names`` order).

    A few rows go in one statement (see ``VALUES_LIMIT``); many are copied into a temporary
    table first and inserted from there, because a VALUES list with thousands of
    placeholders costs the driver far more per row than ``COPY``. No two rows may share a
    key (PostgreSQL refuses to update one row twice in a statement).
    """
    if few(rows, names):
        insert_values(conn, table.name, names, rows, conflict)
        return
    quote = conn.dialect.identifier_preparer.quote
    target, stage = quote(table.name), f"stage_{table.name}"
    columns = ", ".join(quote(n) for n in names)
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {quote(stage)} (LIKE {target}) ON COMMIT DROP")
    copy_rows(conn, table, names, rows, into=stage)
    conn.exec_driver_sql(
        f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {quote(stage)} {conflict}"
    )
    conn.exec_driver_sql(f"DROP TABLE {quote(stage)}")


def insert_values(
    conn: Connection, table: str, names: Sequence[str], rows: Sequence[Values], suffix: str = ""
) -> None:
    """PostgreSQL: insert ``rows`` (values in ``names`` order) in one statement, then
    ``suffix`` (an ``ON CONFLICT`` clause, say).

    The rows travel as one JSON parameter that the server unpacks into the table's own row
    type (``json_populate_recordset``), so each value is coerced to its column's type and the
    statement's text is the same for any number of rows: the driver parses it once and the
    server plans it once (prepared). A ``VALUES`` list of one placeholder per value was
    parsed afresh by the driver for every batch (half the KPI projection's CPU at 100
    cases/s). Values JSON cannot carry (bytes, say) go as such a ``VALUES`` list.
    """
    quote = conn.dialect.identifier_preparer.quote
    target = quote(table)
    columns = ", ".join(quote(n) for n in names)
    driver = conn.connection.driver_connection
    assert driver is not None  # a live psycopg connection inside the caller's transaction
    try:
        document = json.dumps(
            [dict(zip(names, values, strict=True)) for values in rows],
            default=_json_value,
            allow_nan=False,
            ensure_ascii=False,
        )
    except (TypeError, ValueError):
        row = f"({', '.join(['%s'] * len(names))})"
        statement = (
            f"INSERT INTO {target} ({columns}) VALUES {', '.join([row] * len(rows))} {suffix}"
        )
        with driver.cursor() as cursor:
            cursor.execute(statement, [value for values in rows for value in values])
        return
    statement = (
        f"INSERT INTO {target} ({columns}) SELECT {columns} "
        f"FROM json_populate_recordset(NULL::{target}, %s::json) {suffix}"
    )
    with driver.cursor() as cursor:
        cursor.execute(statement, (document,))


def _json_value(value: object) -> str:
    """A date or a time as PostgreSQL reads it (a naive one in the session's zone, as the
    driver would send it); anything else is not JSON here."""
    if isinstance(value, date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def copy_rows(
    conn: Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Iterable[Values],
    *,
    into: str | None = None,
) -> None:
    """PostgreSQL: ``COPY`` ``rows`` (values in ``names`` order) into ``table`` (or into
    ``into``, a table made ``LIKE`` it), in the binary format.

    Binary rows skip the text formatting and parsing of every value on both sides. The
    column types they need are read from the catalogue once per table definition.
    """
    quote = conn.dialect.identifier_preparer.quote
    types = _COLUMN_TYPES.get(table)
    if types is None:
        types = _COLUMN_TYPES[table] = dict(
            conn.execute(
                sa.text(
                    "SELECT attname, CAST(atttypid AS integer) FROM pg_attribute "
                    "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
                ),
                {"t": quote(table.name)},
            ).all()
        )
    columns = ", ".join(quote(n) for n in names)
    statement = f"COPY {quote(into or table.name)} ({columns}) FROM STDIN (FORMAT BINARY)"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor(binary=True) as cursor, cursor.copy(statement) as copy:
        copy.set_types([types[n] for n in names])
        for values in rows:
            copy.write_row(values)


def add_to(conn: Connection, table: sa.Table, rows: Sequence[Values]) -> None:
    """Add ``rows`` (values in the table's column order) into ``table``: a new key is
    inserted, an existing one gets the values added to its columns (the primary key columns
    identify the row; the others are summed). No two rows may share a key.
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
    if _postgres(conn):
        upsert_rows(conn, table, names, rows, conflict)
        return
    columns = ", ".join(quote(n) for n in names)
    values = ", ".join(f":{n}" for n in names)
    statement = sa.text(f"INSERT INTO {target} ({columns}) VALUES ({values}) {conflict}")
    typed = statement.bindparams(*(sa.bindparam(c.name, type_=c.type) for c in table.columns))
    conn.execute(typed, [dict(zip(names, row, strict=True)) for row in rows])
