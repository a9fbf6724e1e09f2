"""an account whose password another person set (created through the API, or a password set by an administrator) must change it at its first sign-in

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 14:20:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
