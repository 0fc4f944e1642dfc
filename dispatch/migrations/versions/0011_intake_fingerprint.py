"""The fingerprint of the request an Idempotency-Key made its case from.

A key reused with a different body is refused (422 ``idempotency_key_reused``) instead of
silently answering with the first case. Keys stored before have no fingerprint and are
trusted as before.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("fingerprint")
