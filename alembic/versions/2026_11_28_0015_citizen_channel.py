"""citizen channel: citizens' ratings (append-only for the service), Open311 API keys, attachments, the
location a public submission gives, the link of a letter stored as a duplicate and dismissed duplicate suggestions

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 15:39:48
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _role() -> str:
    from api.settings import Settings

    role = Settings().db_app_role
    if not role.replace("_", "").isalnum():
        raise ValueError("DB_APP_ROLE must be a plain identifier")
    return role


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_keys_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_table('attachments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    op.create_index(op.f('ix_attachments_case_id'), 'attachments', ['case_id'], unique=False)
    op.create_table('case_ratings',
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('rated_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_case_ratings_rating_score_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_ratings_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_ratings'))
    )
    op.create_index(op.f('ix_case_ratings_rated_on'), 'case_ratings', ['rated_on'], unique=False)
    op.add_column('cases', sa.Column('location', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('cases', sa.Column('duplicate_of_case_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_cases_duplicate_of_case_id_cases'), 'cases', 'cases', ['duplicate_of_case_id'], ['id'])
    op.create_index(op.f('ix_cases_duplicate_of_case_id'), 'cases', ['duplicate_of_case_id'], unique=False)
    op.create_table('duplicate_dismissals',
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('other_case_id', sa.BigInteger(), nullable=False),
    sa.Column('dismissed_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_duplicate_dismissals_case_id_cases')),
    sa.ForeignKeyConstraint(['dismissed_by_id'], ['users.id'], name=op.f('fk_duplicate_dismissals_dismissed_by_id_users')),
    sa.ForeignKeyConstraint(['other_case_id'], ['cases.id'], name=op.f('fk_duplicate_dismissals_other_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', 'other_case_id', name=op.f('pk_duplicate_dismissals'))
    )
    role = _role()
    if role:
        op.execute(f"REVOKE UPDATE, DELETE ON case_ratings FROM {role}")


def downgrade() -> None:
    op.drop_table('duplicate_dismissals')
    op.drop_index(op.f('ix_cases_duplicate_of_case_id'), table_name='cases')
    op.drop_constraint(op.f('fk_cases_duplicate_of_case_id_cases'), 'cases', type_='foreignkey')
    op.drop_column('cases', 'duplicate_of_case_id')
    op.drop_column('cases', 'location')
    op.drop_index(op.f('ix_case_ratings_rated_on'), table_name='case_ratings')
    op.drop_table('case_ratings')
    op.drop_index(op.f('ix_attachments_case_id'), table_name='attachments')
    op.drop_table('attachments')
    op.drop_table('api_keys')
