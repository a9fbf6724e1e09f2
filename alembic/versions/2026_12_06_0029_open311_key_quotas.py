"""(reserved: issue 24, Open311 quotas per API key; filled in by that work, or left as a step that changes nothing)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 15:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
