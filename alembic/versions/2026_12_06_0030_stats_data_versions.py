"""(reserved: issue 24, the forms' cache keyed by the data they count; filled in by that work, or left as a step that changes nothing)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 15:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
