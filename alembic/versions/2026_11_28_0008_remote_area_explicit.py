"""remote area explicit: whether an officer set the case's remote-area flag (it then follows the matter
through transfers) or it was taken from the competent unit (it then follows the unit that settles it)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 13:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('remote_area_explicit', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column('cases', 'remote_area_explicit')
