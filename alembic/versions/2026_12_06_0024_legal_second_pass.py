"""issue 22: acceptance documents, withdrawals ending by termination, notice timers met, disciplinary complaints,
further denunciations

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 13:05:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

# The columns case_facts copies from cases (0016, 0017), and from now on previous_case_id: a further denunciation's
# earlier denunciation (LTC art. 38.1), counted in 04/GQTC column 4.
OLD_COLUMNS = (
    "kind, field, status, receiving_unit_id, competent_unit_id, received_at, processed_on, processed_as, accepted_on, "
    "settled_on, outcome, reason_code, resolution_late, complaint_round, repeat_of_case_id, enforced_on, remedies, "
    "enforcement, next_due_date"
)
NEW_COLUMNS = OLD_COLUMNS + ", previous_case_id"


def _sync(columns: str) -> None:
    """case_facts_sync() and the update trigger (0016, 0017) over `columns`."""
    names = [c.strip() for c in columns.split(",")]
    new = ", ".join("NEW." + c for c in names)
    old = ", ".join("OLD." + c for c in names)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in names)
    op.execute(f"""
        CREATE OR REPLACE FUNCTION case_facts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO case_facts (case_id, {columns}) VALUES (NEW.id, {new})
            ON CONFLICT (case_id) DO UPDATE SET {sets};
            RETURN NULL;
        END $$
    """)
    op.execute("DROP TRIGGER case_facts_sync_update ON cases")
    op.execute(f"""
        CREATE TRIGGER case_facts_sync_update AFTER UPDATE OF {columns} ON cases
        FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION case_facts_sync()
    """)


def upgrade() -> None:
    # Notice timers: nothing to rewrite. Every notification duty already stored on a case (Decree 155/2026's
    # notify_suspension / notify_resumption / notify_termination included) stays as it is, and a notice recorded
    # now with its real date meets it (met, or met_late after its due date).
    # Complaints against a disciplinary decision on an officer (LKN art. 46–51); existing cases are not.
    op.add_column(
        'cases', sa.Column('disciplinary', sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # Further denunciations (LTC art. 38.1) in the statistics' copy of each case.
    op.add_column('case_facts', sa.Column('previous_case_id', sa.BigInteger(), nullable=True))
    _sync(NEW_COLUMNS)
    op.execute(
        "UPDATE case_facts f SET previous_case_id = c.previous_case_id FROM cases c "
        "WHERE c.id = f.case_id AND c.previous_case_id IS NOT NULL"
    )


def downgrade() -> None:
    _sync(OLD_COLUMNS)
    op.drop_column('case_facts', 'previous_case_id')
    op.drop_column('cases', 'disciplinary')
