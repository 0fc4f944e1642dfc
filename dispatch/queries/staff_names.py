"""Who acted, as people know them: a username in the log becomes the user's display name.

The log keeps the username (it never changes); names are looked up at read time, so a
corrected name shows everywhere at once. A username no longer known shows as itself.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dispatch.auth.users import users


def display_names(conn: Connection, usernames: Iterable[str | None]) -> dict[str, str]:
    """``{username: display name}`` for the given usernames that belong to a user."""
    wanted = sorted({name for name in usernames if name})
    if not wanted:
        return {}
    query = sa.select(users.c.username, users.c.display_name).where(users.c.username.in_(wanted))
    return {row.username: row.display_name or row.username for row in conn.execute(query)}
