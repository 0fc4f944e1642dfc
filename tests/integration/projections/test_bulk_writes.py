"""A projection's small writes (``insert_values``) store every value as given, on PostgreSQL:
as one JSON parameter the server unpacks into the table's row type, or — for a value JSON
cannot carry — as a list of placeholders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.projections.bulk import insert_values
from events.types import UtcDateTime

pytestmark = pytest.mark.postgres_only

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def table(engine: Engine, unique: str) -> Iterator[sa.Table]:
    metadata = sa.MetaData()
    written = sa.Table(
        f"bulk_{unique}"[:60],
        metadata,
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("share", sa.Float, nullable=True),
        sa.Column("flag", sa.Boolean, nullable=True),
        sa.Column("day", sa.Date, nullable=True),
        sa.Column("at", UtcDateTime(), nullable=True),
        sa.Column("blob", sa.LargeBinary, nullable=True),
    )
    metadata.create_all(engine)
    yield written
    metadata.drop_all(engine)


def rows_of(engine: Engine, table: sa.Table) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {row.key: row._asdict() for row in conn.execute(sa.select(table))}


def test_every_kind_of_value_is_stored_as_given_whatever_the_number_of_rows(
    engine: Engine, table: sa.Table
):
    names = ["key", "label", "count", "share", "flag", "day", "at"]
    at = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=BEIJING)
    rows = [
        ["a", '朝阳区 "路" \\ \' 停水', 3, 0.25, True, date(2026, 12, 3), at],
        ["b", None, 0, None, False, None, None],
        *[[f"n{n}", f"#{n}", n, n / 3, n % 2 == 0, date(2026, 1, 1 + n), at] for n in range(20)],
    ]
    with engine.begin() as conn:
        insert_values(conn, table.name, names, rows[:1])  # one row, then many: same text
        insert_values(conn, table.name, names, rows[1:])

    stored = rows_of(engine, table)

    assert len(stored) == 22
    first = stored["a"]
    assert (first["label"], first["count"], first["share"], first["flag"]) == (
        '朝阳区 "路" \\ \' 停水',
        3,
        0.25,
        True,
    )
    assert first["day"] == date(2026, 12, 3)
    assert first["at"] == at.astimezone(UTC)  # the same instant
    assert stored["b"] == {
        "key": "b",
        "label": None,
        "count": 0,
        "share": None,
        "flag": False,
        "day": None,
        "at": None,
        "blob": None,
    }
    assert stored["n19"]["share"] == pytest.approx(19 / 3)


def test_a_column_left_out_takes_its_default(engine: Engine, table: sa.Table):
    with engine.begin() as conn:
        insert_values(conn, table.name, ["key", "label"], [["a", "x"]])

    assert rows_of(engine, table)["a"]["count"] == 0


def test_a_conflict_clause_applies_to_the_rows(engine: Engine, table: sa.Table):
    adding = f"ON CONFLICT (key) DO UPDATE SET count = {table.name}.count + excluded.count"
    with engine.begin() as conn:
        insert_values(conn, table.name, ["key", "count"], [["a", 2], ["b", 1]], adding)
        insert_values(conn, table.name, ["key", "count"], [["a", 5]], adding)

    assert rows_of(engine, table)["a"]["count"] == 7


def test_values_json_cannot_carry_are_stored_as_given_too(engine: Engine, table: sa.Table):
    rows = [["a", b"\x00\xff bytes", float("nan")], ["b", b"", 1.5]]

    with engine.begin() as conn:
        insert_values(conn, table.name, ["key", "blob", "share"], rows)

    stored = rows_of(engine, table)
    assert stored["a"]["blob"] == b"\x00\xff bytes"
    assert stored["a"]["share"] != stored["a"]["share"]  # NaN
    assert (stored["b"]["blob"], stored["b"]["share"]) == (b"", 1.5)
