"""Alembic environment: one migration history for PostgreSQL and SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from events.database import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url", "")  # ops.migrations always sets it
connection = config.attributes.get("connection")


def run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=None,
        render_as_batch=conn.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    engine = make_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
