"""system accounts and two-person grants (issue 21)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 13:00:00
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

CHANNEL_USERNAME = "he-thong.cong-dan"  # api/services/citizen/submissions.py


def upgrade() -> None:
    op.add_column("users", sa.Column("is_system", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("users", sa.Column("pending_roles", postgresql.ARRAY(sa.String(length=32)), nullable=True))
    op.add_column("users", sa.Column("pending_unit_id", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("pending_password_hash", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("pending_activation", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("users", sa.Column("pending_by_id", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("pending_at", sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(op.f("fk_users_pending_unit_id_units"), "users", "units", ["pending_unit_id"], ["id"])
    op.create_foreign_key(op.f("fk_users_pending_by_id_users"), "users", "users", ["pending_by_id"], ["id"])
    # The citizen channel's account, where it exists, becomes a system account (and is made inert, whatever an
    # administrator did to it before: no role, not active, a password that matches nothing).
    op.execute(
        sa.text(
            "UPDATE users SET is_system = true, is_active = false, roles = '{}', password_hash = '!', "
            "token_version = token_version + 1 WHERE username = :u"
        ).bindparams(u=CHANNEL_USERNAME)
    )
    op.create_check_constraint(
        op.f("ck_users_system_inert"),
        "users",
        "NOT is_system OR (NOT is_active AND roles = '{}' AND pending_roles IS NULL AND pending_unit_id IS NULL "
        "AND pending_password_hash IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_users_system_inert"), "users", type_="check")
    op.drop_constraint(op.f("fk_users_pending_by_id_users"), "users", type_="foreignkey")
    op.drop_constraint(op.f("fk_users_pending_unit_id_units"), "users", type_="foreignkey")
    op.drop_column("users", "pending_at")
    op.drop_column("users", "pending_by_id")
    op.drop_column("users", "pending_activation")
    op.drop_column("users", "pending_password_hash")
    op.drop_column("users", "pending_unit_id")
    op.drop_column("users", "pending_roles")
    op.drop_column("users", "is_system")
