"""(reserved: issue 25, Thanh tra tỉnh's inspections; filled in by that work, or left as a step that changes nothing)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 15:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
