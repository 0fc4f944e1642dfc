"""Migrations (Alembic) for the one database the service uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from events.vault import index_phones

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def prepare_database(engine: Engine, *, phone_key: bytes | None = None) -> list[str]:
    """Migrations, then the projection tables (owned by the runner, not Alembic); a
    projection whose table shape changed since the last run is rebuilt from the log. With
    ``phone_key`` (``Settings.phone_index_key``), reporters kept before the phone index
    existed are indexed too (the key is not the database's to know, so no migration can).

    Returns the names of the projections it rebuilt.
    """
    from dispatch.projections import default_projections
    from dispatch.projections.runner import ProjectionRunner

    upgrade_database(engine)
    if phone_key is not None:
        with engine.begin() as conn:
            index_phones(conn, phone_key)
    return ProjectionRunner(engine, default_projections()).ensure_current()
