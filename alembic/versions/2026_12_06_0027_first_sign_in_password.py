"""one-time passwords: an account whose password another person set (created through the API, or set by an
administrator) must change it at its first sign-in (users.must_change_password)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 14:20:00
"""

import sqlalchemy as sa

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing accounts keep their passwords (false); from now on a password another person sets is one-time.
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("users", "must_change_password")
