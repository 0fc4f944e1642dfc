"""Column types shared by every table: times are stored and read back as UTC.

SQLite keeps no offset: an aware ``datetime`` written as ``+08:00`` would be read back as if
it were UTC, eight hours off. Converting to UTC on the way in and tagging UTC on the way
out makes both databases answer the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa


class UtcDateTime(sa.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value  # naive values are UTC by this codebase's convention
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
