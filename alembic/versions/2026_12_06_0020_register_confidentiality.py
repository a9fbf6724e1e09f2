"""the reception register follows its case's read rules; a case always keeps an overseer (issue 21)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 13:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
