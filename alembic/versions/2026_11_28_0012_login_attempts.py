"""login attempts: sign-in attempts counted atomically per (username, client address) and per address, before
the password is checked; failures for unknown usernames no longer write audit rows

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_attempts',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index(op.f('ix_login_attempts_window_start'), 'login_attempts', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_login_attempts_window_start'), table_name='login_attempts')
    op.drop_table('login_attempts')
