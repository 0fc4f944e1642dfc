"""A per-user session counter; signed seals, append-only like the events.

``users.session_version`` is carried in every access token and console session and compared
on each request: raising it (a user disabled, re-roled or given a new password) ends every
session of that user at once. ``seals.hmac`` signs a seal with ``DISPATCH_SEAL_KEY``, which
never sits in the database; seals may be added, never changed or removed.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("session_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("seals", sa.Column("hmac", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION seals_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'seals are append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER seals_no_update_delete BEFORE UPDATE OR DELETE ON seals "
            "FOR EACH ROW EXECUTE FUNCTION seals_are_append_only()"
        )
        op.execute(
            "CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON seals "
            "FOR EACH STATEMENT EXECUTE FUNCTION seals_are_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER seals_no_update BEFORE UPDATE ON seals "
            "BEGIN SELECT RAISE(ABORT, 'seals are append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER seals_no_delete BEFORE DELETE ON seals "
            "BEGIN SELECT RAISE(ABORT, 'seals are append-only: DELETE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER seals_no_truncate ON seals")
        op.execute("DROP TRIGGER seals_no_update_delete ON seals")
        op.execute("DROP FUNCTION seals_are_append_only()")
    else:
        op.execute("DROP TRIGGER seals_no_delete")
        op.execute("DROP TRIGGER seals_no_update")
    with op.batch_alter_table("seals") as batch:
        batch.drop_column("hmac")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
