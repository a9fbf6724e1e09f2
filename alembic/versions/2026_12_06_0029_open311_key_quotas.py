"""Open311 quotas per API key: how many requests a key may make per minute and per day, and their counts

`api_keys.per_minute` / `api_keys.per_day`: set when the key is issued (POST /api/v1/open311/api-keys; defaults
60 and 5000, the keys issued before get the defaults). `api_key_usage`: the requests counted per key and window
(`span` minute or day, `window_start` its start), one row per key and window, shared by every API process (or
counted in Redis when REDIS_URL is set). Counts of past windows are deleted as new ones start; they hold no
address and no identity, only a key's id and a number.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 15:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_keys', sa.Column('per_minute', sa.Integer(), server_default='60', nullable=False))
    op.add_column('api_keys', sa.Column('per_day', sa.Integer(), server_default='5000', nullable=False))
    op.create_check_constraint(
        op.f('ck_api_keys_api_key_quota_positive'), 'api_keys', 'per_minute > 0 AND per_day > 0'
    )
    op.create_table(
        'api_key_usage',
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('span', sa.String(length=6), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['api_key_id'], ['api_keys.id'], name=op.f('fk_api_key_usage_api_key_id_api_keys'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('api_key_id', 'span', 'window_start', name=op.f('pk_api_key_usage')),
    )


def downgrade() -> None:
    op.drop_table('api_key_usage')
    op.drop_constraint(op.f('ck_api_keys_api_key_quota_positive'), 'api_keys', type_='check')
    op.drop_column('api_keys', 'per_day')
    op.drop_column('api_keys', 'per_minute')
