"""cases: parties, assignments, dialogues, hash-chained events; search and append-only guards

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:17:20.811503
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('tracking_code', sa.String(length=24), nullable=False),
    sa.Column('access_key_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('field', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Date(), nullable=False),
    sa.Column('receiving_unit_id', sa.Integer(), nullable=False),
    sa.Column('competent_unit_id', sa.Integer(), nullable=False),
    sa.Column('received_by_id', sa.Integer(), nullable=False),
    sa.Column('complaint_round', sa.SmallInteger(), nullable=True),
    sa.Column('previous_case_id', sa.BigInteger(), nullable=True),
    sa.Column('decision_known_date', sa.Date(), nullable=True),
    sa.Column('complexity', sa.String(length=24), server_default='normal', nullable=False),
    sa.Column('remote_area', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('signer_count', sa.Integer(), server_default='1', nullable=False),
    sa.Column('is_anonymous', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('multi_place_verification', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('level_skipping', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('repeat_of_case_id', sa.BigInteger(), nullable=True),
    sa.Column('transferred_from_case_id', sa.BigInteger(), nullable=True),
    sa.Column('transferred_to_case_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_before_suspension', sa.String(length=16), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('decision_number', sa.String(length=64), nullable=True),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('remedies', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('extension_count', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('warnings', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('timers', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('next_due_date', sa.Date(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_cases_version_positive')),
    sa.ForeignKeyConstraint(['competent_unit_id'], ['units.id'], name=op.f('fk_cases_competent_unit_id_units')),
    sa.ForeignKeyConstraint(['previous_case_id'], ['cases.id'], name=op.f('fk_cases_previous_case_id_cases')),
    sa.ForeignKeyConstraint(['received_by_id'], ['users.id'], name=op.f('fk_cases_received_by_id_users')),
    sa.ForeignKeyConstraint(['receiving_unit_id'], ['units.id'], name=op.f('fk_cases_receiving_unit_id_units')),
    sa.ForeignKeyConstraint(['repeat_of_case_id'], ['cases.id'], name=op.f('fk_cases_repeat_of_case_id_cases')),
    sa.ForeignKeyConstraint(['transferred_from_case_id'], ['cases.id'], name=op.f('fk_cases_transferred_from_case_id_cases')),
    sa.ForeignKeyConstraint(['transferred_to_case_id'], ['cases.id'], name=op.f('fk_cases_transferred_to_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('received_by_id', 'idempotency_key', name='uq_cases_idempotency'),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_cases_tracking_code'))
    )
    op.create_index(op.f('ix_cases_competent_unit_id'), 'cases', ['competent_unit_id'], unique=False)
    op.create_index(op.f('ix_cases_field'), 'cases', ['field'], unique=False)
    op.create_index(op.f('ix_cases_kind'), 'cases', ['kind'], unique=False)
    op.create_index(op.f('ix_cases_next_due_date'), 'cases', ['next_due_date'], unique=False)
    op.create_index(op.f('ix_cases_outcome'), 'cases', ['outcome'], unique=False)
    op.create_index(op.f('ix_cases_previous_case_id'), 'cases', ['previous_case_id'], unique=False)
    op.create_index(op.f('ix_cases_received_at'), 'cases', ['received_at'], unique=False)
    op.create_index(op.f('ix_cases_receiving_unit_id'), 'cases', ['receiving_unit_id'], unique=False)
    op.create_index(op.f('ix_cases_repeat_of_case_id'), 'cases', ['repeat_of_case_id'], unique=False)
    op.create_index(op.f('ix_cases_status'), 'cases', ['status'], unique=False)
    op.create_index(op.f('ix_cases_transferred_from_case_id'), 'cases', ['transferred_from_case_id'], unique=False)
    op.create_index('ix_cases_unit_received', 'cases', ['competent_unit_id', 'received_at', 'id'], unique=False)
    op.create_table('case_assignments',
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_assignments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_assignments'))
    )
    op.create_index(op.f('ix_case_assignments_user_id'), 'case_assignments', ['user_id'], unique=False)
    op.create_table('case_dialogues',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('participants', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('agreement_reached', sa.Boolean(), nullable=False),
    sa.Column('complainant_absent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_dialogues_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_dialogues_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_dialogues'))
    )
    op.create_index(op.f('ix_case_dialogues_case_id'), 'case_dialogues', ['case_id'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events')),
    sa.UniqueConstraint('case_id', 'seq', name='uq_case_events_case_seq')
    )
    op.create_table('case_parties',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('full_name', sa.String(length=255), nullable=False),
    sa.Column('id_number', sa.String(length=12), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_parties_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_case_parties_officer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_parties'))
    )
    op.create_index(op.f('ix_case_parties_case_id'), 'case_parties', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_parties_id_number'), 'case_parties', ['id_number'], unique=False)
    op.create_index(op.f('ix_case_parties_officer_id'), 'case_parties', ['officer_id'], unique=False)
    op.execute("CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
               "FOR EACH ROW EXECUTE FUNCTION forbid_change()")
    # Accent-insensitive Vietnamese search: "dat dai" finds "đất đai".
    op.execute("CREATE INDEX ixx_cases_search ON cases USING gin "
               "(f_unaccent(lower(title || ' ' || content)) gin_trgm_ops)")
    op.execute("CREATE INDEX ixx_cases_content_trgm ON cases USING gin (f_unaccent(lower(content)) gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ixx_cases_content_trgm")
    op.execute("DROP INDEX IF EXISTS ixx_cases_search")
    op.drop_index(op.f('ix_case_parties_officer_id'), table_name='case_parties')
    op.drop_index(op.f('ix_case_parties_id_number'), table_name='case_parties')
    op.drop_index(op.f('ix_case_parties_case_id'), table_name='case_parties')
    op.drop_table('case_parties')
    op.drop_table('case_events')
    op.drop_index(op.f('ix_case_dialogues_case_id'), table_name='case_dialogues')
    op.drop_table('case_dialogues')
    op.drop_index(op.f('ix_case_assignments_user_id'), table_name='case_assignments')
    op.drop_table('case_assignments')
    op.drop_index('ix_cases_unit_received', table_name='cases')
    op.drop_index(op.f('ix_cases_transferred_from_case_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_status'), table_name='cases')
    op.drop_index(op.f('ix_cases_repeat_of_case_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_receiving_unit_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_received_at'), table_name='cases')
    op.drop_index(op.f('ix_cases_previous_case_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_outcome'), table_name='cases')
    op.drop_index(op.f('ix_cases_next_due_date'), table_name='cases')
    op.drop_index(op.f('ix_cases_kind'), table_name='cases')
    op.drop_index(op.f('ix_cases_field'), table_name='cases')
    op.drop_index(op.f('ix_cases_competent_unit_id'), table_name='cases')
    op.drop_table('cases')
