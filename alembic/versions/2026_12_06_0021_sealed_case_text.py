"""a denunciation's title and content sealed at rest, a keyed word index for search, keyed idempotency fingerprints (issue 21)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 13:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
