"""issue 22: acceptance documents, withdrawals ending by termination, notice timers met, disciplinary complaints,
further denunciations

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 13:05:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
