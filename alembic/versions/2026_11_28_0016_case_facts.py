"""case facts: the statistics' narrow copy of each case's counted columns, kept by a trigger on cases in the same
transaction as every change, and filled from the existing cases

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 15:55:27
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COLUMNS = (
    "kind, field, status, receiving_unit_id, competent_unit_id, received_at, processed_on, processed_as, accepted_on, "
    "settled_on, outcome, reason_code, resolution_late, complaint_round, repeat_of_case_id, enforced_on, remedies, "
    "enforcement, next_due_date"
)


def _trigger() -> None:
    names = [c.strip() for c in COLUMNS.split(",")]
    new = ", ".join("NEW." + c for c in names)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in names)
    op.execute(f"""
        CREATE FUNCTION case_facts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO case_facts (case_id, {COLUMNS}) VALUES (NEW.id, {new})
            ON CONFLICT (case_id) DO UPDATE SET {sets};
            RETURN NULL;
        END $$
    """)
    op.execute(f"""
        CREATE TRIGGER case_facts_sync AFTER INSERT OR UPDATE OF {COLUMNS} ON cases
        FOR EACH ROW EXECUTE FUNCTION case_facts_sync()
    """)
    op.execute(f"INSERT INTO case_facts (case_id, {COLUMNS}) SELECT id, {COLUMNS} FROM cases")


def upgrade() -> None:
    op.create_table('case_facts',
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('field', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('receiving_unit_id', sa.Integer(), nullable=False),
    sa.Column('competent_unit_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.Date(), nullable=False),
    sa.Column('processed_on', sa.Date(), nullable=True),
    sa.Column('processed_as', sa.String(length=16), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('settled_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('resolution_late', sa.Boolean(), nullable=True),
    sa.Column('complaint_round', sa.SmallInteger(), nullable=True),
    sa.Column('repeat_of_case_id', sa.BigInteger(), nullable=True),
    sa.Column('enforced_on', sa.Date(), nullable=True),
    sa.Column('remedies', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('enforcement', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('next_due_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_facts_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_facts'))
    )
    op.create_index('ix_case_facts_due', 'case_facts', ['next_due_date'], unique=False, postgresql_where=sa.text('next_due_date IS NOT NULL'))
    op.create_index('ix_case_facts_enforced', 'case_facts', ['enforced_on'], unique=False, postgresql_where=sa.text('enforced_on IS NOT NULL'))
    op.create_index('ix_case_facts_processed', 'case_facts', ['processed_on'], unique=False, postgresql_where=sa.text('processed_on IS NOT NULL'))
    op.create_index('ix_case_facts_received', 'case_facts', ['received_at'], unique=False)
    op.create_index('ix_case_facts_settled', 'case_facts', ['settled_on'], unique=False, postgresql_where=sa.text('settled_on IS NOT NULL'))
    op.create_index('ix_case_facts_unenforced', 'case_facts', ['competent_unit_id'], unique=False, postgresql_where=sa.text('enforced_on IS NULL AND outcome IS NOT NULL'))
    op.create_index('ix_case_facts_unprocessed', 'case_facts', ['receiving_unit_id'], unique=False, postgresql_where=sa.text('processed_on IS NULL'))
    op.create_index('ix_case_facts_unsettled', 'case_facts', ['competent_unit_id'], unique=False, postgresql_where=sa.text('settled_on IS NULL AND accepted_on IS NOT NULL'))
    _trigger()


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS case_facts_sync ON cases")
    op.execute("DROP FUNCTION IF EXISTS case_facts_sync()")
    op.drop_index('ix_case_facts_unsettled', table_name='case_facts', postgresql_where=sa.text('settled_on IS NULL AND accepted_on IS NOT NULL'))
    op.drop_index('ix_case_facts_unprocessed', table_name='case_facts', postgresql_where=sa.text('processed_on IS NULL'))
    op.drop_index('ix_case_facts_unenforced', table_name='case_facts', postgresql_where=sa.text('enforced_on IS NULL AND outcome IS NOT NULL'))
    op.drop_index('ix_case_facts_settled', table_name='case_facts', postgresql_where=sa.text('settled_on IS NOT NULL'))
    op.drop_index('ix_case_facts_received', table_name='case_facts')
    op.drop_index('ix_case_facts_processed', table_name='case_facts', postgresql_where=sa.text('processed_on IS NOT NULL'))
    op.drop_index('ix_case_facts_due', table_name='case_facts', postgresql_where=sa.text('next_due_date IS NOT NULL'))
    op.drop_index('ix_case_facts_enforced', table_name='case_facts', postgresql_where=sa.text('enforced_on IS NOT NULL'))
    op.drop_table('case_facts')
