"""Notice deliveries: urges, rulings, cancellations and SLA warnings sent to departments.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_deliveries",
        sa.Column("notice_id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(64), nullable=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_notice_deliveries_department_state", "notice_deliveries", ["department", "state"]
    )
    op.create_index("ix_notice_deliveries_case_id", "notice_deliveries", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_notice_deliveries_case_id", table_name="notice_deliveries")
    op.drop_index("ix_notice_deliveries_department_state", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
