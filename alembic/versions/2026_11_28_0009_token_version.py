"""token version: every access token carries its officer's token version; a password change, a deactivation
or a sign-out bumps it, so that earlier tokens stop working at once

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 14:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('users', 'token_version')
