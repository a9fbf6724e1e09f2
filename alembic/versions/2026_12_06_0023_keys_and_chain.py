"""key check values, contiguous checkpoints, the chain covers the case row (issue 21)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 13:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
