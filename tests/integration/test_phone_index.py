"""The vault's blind phone index: one number however typed, filled in for old rows, erased
with the person."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events import personal_data_table
from events.vault import (
    erase_personal_data,
    index_phones,
    phone_index,
    refs_with_phone,
    store_personal_data,
)

KEY = b"k" * 32


def test_one_number_typed_three_ways_has_one_index_and_the_key_matters() -> None:
    forms = ("13800138000", "+86 138-0013-8000", "0086 138 0013 8000")
    assert len({phone_index(KEY, form) for form in forms}) == 1
    assert phone_index(KEY, "13800138000") != phone_index(b"x" * 32, "13800138000")
    assert phone_index(KEY, "13800138000") != "13800138000"
    assert phone_index(KEY, "call me") is None


def test_rows_kept_before_the_index_are_indexed_and_erasure_forgets_the_index(
    engine: Engine, unique: str
) -> None:
    phone = f"137{int(unique, 16) % 10**8:08d}"
    with engine.begin() as conn:
        old = store_personal_data(conn, {"name": "老用户", "phone": phone})  # no key: unindexed
        assert conn.execute(sa.select(refs_with_phone(KEY, phone).subquery())).all() == []
        assert index_phones(conn, KEY) >= 1
        assert [r.ref for r in conn.execute(refs_with_phone(KEY, phone))] == [old]
        new = store_personal_data(conn, {"phone": f"+86 {phone}"}, index_key=KEY)
        assert {r.ref for r in conn.execute(refs_with_phone(KEY, phone))} == {old, new}
        erase_personal_data(conn, old)
        assert [r.ref for r in conn.execute(refs_with_phone(KEY, phone))] == [new]
        index_phones(conn, KEY)  # an erased person is never indexed again
        assert [r.ref for r in conn.execute(refs_with_phone(KEY, phone))] == [new]
        stored = conn.execute(
            sa.select(personal_data_table.c.phone_index).where(personal_data_table.c.ref == old)
        ).scalar()
        assert stored is None
