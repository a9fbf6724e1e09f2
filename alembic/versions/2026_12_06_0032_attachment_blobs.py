"""(reserved: issue 26, attachments stored in PostgreSQL; filled in by that work, or left as a step that changes nothing)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 15:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
