"""A blind index of reporters' phones; the access log of full-phone views.

``personal_data.phone_index`` holds an HMAC of the normalised phone (``events.vault``) under a
key derived from ``DISPATCH_SECRET_KEY``, which the database never holds; so the migration
only adds the column, and ``dispatch db upgrade`` (``prepare_database`` with the key) fills it
for the reporters kept before it existed.

``phone_access_log``: every time a liaison is shown a reporter's full phone (DESIGN.md §8.2),
who, when, which case, for which department and through which route. Kept apart from the event
log: it records who looked, not what happened to the case.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("personal_data") as batch:
        batch.add_column(sa.Column("phone_index", sa.String(64), nullable=True))
        batch.create_index("ix_personal_data_phone_index", ["phone_index"])
    op.create_table(
        "phone_access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_phone_access_log_case", "phone_access_log", ["case_id", "viewed_at"])


def downgrade() -> None:
    op.drop_index("ix_phone_access_log_case", table_name="phone_access_log")
    op.drop_table("phone_access_log")
    with op.batch_alter_table("personal_data") as batch:
        batch.drop_index("ix_personal_data_phone_index")
        batch.drop_column("phone_index")
