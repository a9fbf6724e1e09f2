"""the citizen channel keeps no client address; attachments sealed, stripped copies, quotas (issue 21)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 13:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
