"""case search and lists at scale: a stored full-text vector of the folded title and content (whole words,
accent-insensitive) with its GIN index; keyset indexes that serve each scope together with the sort; no
single-column indexes on low-cardinality columns (kind, field, status, outcome) or on prefixes of others

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 13:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

VECTOR = "to_tsvector('simple'::regconfig, f_unaccent(lower(((title)::text || ' '::text) || content)))"
DROPPED = ['ix_cases_kind', 'ix_cases_field', 'ix_cases_status', 'ix_cases_outcome', 'ix_cases_competent_unit_id',
           'ix_cases_receiving_unit_id', 'ix_cases_received_at']


def upgrade() -> None:
    op.add_column('cases', sa.Column('search_vector', postgresql.TSVECTOR(),
                                     sa.Computed(VECTOR, persisted=True), nullable=True))
    op.execute("DROP INDEX IF EXISTS ixx_cases_search")
    op.execute("CREATE INDEX ixx_cases_search_vector ON cases USING gin (search_vector)")
    for name in DROPPED:
        op.drop_index(name, table_name='cases')
    op.create_index('ix_cases_received', 'cases', ['received_at', 'id'], unique=False)
    op.create_index('ix_cases_receiving_received', 'cases', ['receiving_unit_id', 'received_at', 'id'], unique=False)
    op.execute("CREATE INDEX ixx_cases_due_sort ON cases ((coalesce(next_due_date, '9000-01-01'::date)), id)")
    # Filter combinations (kind, field, status): one index instead of three weak ones, and statistics of the
    # columns together so the planner knows when a combination is rare (bitmap) or common (ordered scan).
    op.create_index('ix_cases_kind_field_status', 'cases', ['kind', 'field', 'status'], unique=False)
    # Open cases (a running timer) newest first: overdue and due-soon lists skip the many closed ones.
    op.create_index('ix_cases_open_received', 'cases', ['received_at', 'id'], unique=False,
                    postgresql_where=sa.text('next_due_date IS NOT NULL'))
    op.execute("CREATE STATISTICS st_cases_kind_field_status (dependencies, mcv) ON kind, field, status FROM cases")


def downgrade() -> None:
    op.execute("DROP STATISTICS IF EXISTS st_cases_kind_field_status")
    op.drop_index('ix_cases_open_received', table_name='cases')
    op.drop_index('ix_cases_kind_field_status', table_name='cases')
    op.execute("DROP INDEX IF EXISTS ixx_cases_due_sort")
    op.drop_index('ix_cases_receiving_received', table_name='cases')
    op.drop_index('ix_cases_received', table_name='cases')
    for name, column in (('ix_cases_kind', 'kind'), ('ix_cases_field', 'field'), ('ix_cases_status', 'status'),
                         ('ix_cases_outcome', 'outcome'), ('ix_cases_competent_unit_id', 'competent_unit_id'),
                         ('ix_cases_receiving_unit_id', 'receiving_unit_id'), ('ix_cases_received_at', 'received_at')):
        op.create_index(name, 'cases', [column], unique=False)
    op.execute("DROP INDEX IF EXISTS ixx_cases_search_vector")
    op.drop_column('cases', 'search_vector')
    op.execute("CREATE INDEX ixx_cases_search ON cases USING gin "
               "(f_unaccent(lower(title || ' ' || content)) gin_trgm_ops)")
