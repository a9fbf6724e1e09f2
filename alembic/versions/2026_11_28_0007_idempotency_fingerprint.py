"""idempotency fingerprint: the hash of the request an Idempotency-Key was first used with, so the same key
with a different body is refused instead of answered with the first case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 13:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('cases', 'idempotency_fingerprint')
