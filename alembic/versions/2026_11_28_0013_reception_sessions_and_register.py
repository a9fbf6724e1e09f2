"""reception sessions and register: sessions (kind, mode, host in person or delegated, status, online notice and
recording, conclusion notice), the register of form 03/TCD numbered per unit and year (denunciation entries sealed),
and the per-unit, per-year counter that numbers it

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 15:15:24
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reception_counters',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_reception_counters_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'year', name=op.f('pk_reception_counters'))
    )
    op.create_table('reception_sessions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('in_person', sa.Boolean(), nullable=False),
    sa.Column('host_title', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=True),
    sa.Column('online_link', sa.String(length=500), nullable=True),
    sa.Column('citizens_notified_on', sa.Date(), nullable=True),
    sa.Column('recording_ref', sa.String(length=500), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('conclusion_number', sa.String(length=64), nullable=True),
    sa.Column('conclusion_date', sa.Date(), nullable=True),
    sa.Column('conclusion_text', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_reception_sessions_session_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reception_sessions_created_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_reception_sessions_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_sessions'))
    )
    op.create_index('ix_reception_sessions_unit_day', 'reception_sessions', ['unit_id', 'day', 'id'], unique=False)
    op.create_index('ix_reception_sessions_upcoming', 'reception_sessions', ['day', 'id'], unique=False, postgresql_where=sa.text("status = 'scheduled'"))
    op.create_table('reception_entries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.BigInteger(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('persons', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('representatives', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('sealed', sa.Text(), nullable=True),
    sa.Column('people_count', sa.Integer(), nullable=False),
    sa.Column('is_group', sa.Boolean(), nullable=False),
    sa.Column('identity_protection_requested', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('previously_handled_by', sa.String(length=1000), nullable=True),
    sa.Column('handling', sa.String(length=24), nullable=False),
    sa.Column('guided_to', sa.String(length=500), nullable=True),
    sa.Column('guided_doc', sa.String(length=64), nullable=True),
    sa.Column('transferred_to', sa.String(length=500), nullable=True),
    sa.Column('transferred_doc', sa.String(length=64), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('visit', sa.String(length=8), nullable=False),
    sa.Column('repeat_of_entry_id', sa.BigInteger(), nullable=True),
    sa.Column('repeat_of_case_id', sa.BigInteger(), nullable=True),
    sa.Column('case_id', sa.BigInteger(), nullable=True),
    sa.Column('refusal_ground', sa.String(length=32), nullable=True),
    sa.Column('refusal_notice_due', sa.Date(), nullable=True),
    sa.Column('refusal_notice_number', sa.String(length=64), nullable=True),
    sa.Column('refusal_notice_date', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('people_count >= 1', name=op.f('ck_reception_entries_entry_people_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reception_entries_case_id_cases')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reception_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['repeat_of_case_id'], ['cases.id'], name=op.f('fk_reception_entries_repeat_of_case_id_cases')),
    sa.ForeignKeyConstraint(['repeat_of_entry_id'], ['reception_entries.id'], name=op.f('fk_reception_entries_repeat_of_entry_id_reception_entries')),
    sa.ForeignKeyConstraint(['session_id'], ['reception_sessions.id'], name=op.f('fk_reception_entries_session_id_reception_sessions')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_reception_entries_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_entries')),
    sa.UniqueConstraint('unit_id', 'year', 'serial', name='uq_reception_entries_serial')
    )
    op.create_index(op.f('ix_reception_entries_case_id'), 'reception_entries', ['case_id'], unique=False)
    op.create_index(op.f('ix_reception_entries_session_id'), 'reception_entries', ['session_id'], unique=False)
    op.create_index('ix_reception_entries_unit_received', 'reception_entries', ['unit_id', 'received_on', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reception_entries_unit_received', table_name='reception_entries')
    op.drop_index(op.f('ix_reception_entries_session_id'), table_name='reception_entries')
    op.drop_index(op.f('ix_reception_entries_case_id'), table_name='reception_entries')
    op.drop_table('reception_entries')
    op.drop_index('ix_reception_sessions_upcoming', table_name='reception_sessions', postgresql_where=sa.text("status = 'scheduled'"))
    op.drop_index('ix_reception_sessions_unit_day', table_name='reception_sessions')
    op.drop_table('reception_sessions')
    op.drop_table('reception_counters')
