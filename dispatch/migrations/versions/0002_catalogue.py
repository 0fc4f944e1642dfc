"""Catalogue versions: every load is a new numbered row; the highest number is active.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_versions",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(128), nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        # Numbers are recorded on every dispatch; SQLite must never hand one out twice.
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("catalogue_versions")
