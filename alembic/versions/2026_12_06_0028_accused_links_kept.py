"""an accused link removed from a case is kept (removed_at), so the officer once named never reads the case again; the case's state digest versioned

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 14:20:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
