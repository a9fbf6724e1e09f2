"""the deadline sweep's alert date indexed in the statistics' narrow copy (case_facts) instead of on cases, and
room left on each page of cases (fillfactor 85): the sweep's UPDATE of a case's timers then changes no indexed
column of cases and PostgreSQL writes it in place (a HOT update) instead of adding an entry to each of the
eighteen indexes of cases, the two text (GIN) indexes among them; the copy is kept by the trigger of migration 0016
(one more column in its list). Pages written before this revision keep their fill until they are rewritten.
The outbox's index on the event type goes: nothing looks events up by their type, and every intake and every
breach the sweep records paid for an entry in it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 20:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BEFORE = (
    "kind, field, status, receiving_unit_id, competent_unit_id, received_at, processed_on, processed_as, accepted_on, "
    "settled_on, outcome, reason_code, resolution_late, complaint_round, repeat_of_case_id, enforced_on, remedies, "
    "enforcement, next_due_date"
)  # as in 0016 and 0017
AFTER = BEFORE + ", next_alert_date"


def _sync(columns: str) -> None:
    """The copy's trigger function and its update trigger over `columns` (as 0016 and 0017 made them)."""
    names = [c.strip() for c in columns.split(",")]
    new = ", ".join("NEW." + c for c in names)
    old = ", ".join("OLD." + c for c in names)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in names)
    op.execute("DROP TRIGGER case_facts_sync_update ON cases")
    op.execute(f"""
        CREATE OR REPLACE FUNCTION case_facts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO case_facts (case_id, {columns}) VALUES (NEW.id, {new})
            ON CONFLICT (case_id) DO UPDATE SET {sets};
            RETURN NULL;
        END $$
    """)
    op.execute(f"""
        CREATE TRIGGER case_facts_sync_update AFTER UPDATE OF {columns} ON cases
        FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION case_facts_sync()
    """)


def upgrade() -> None:
    op.add_column('case_facts', sa.Column('next_alert_date', sa.Date(), nullable=True))
    op.execute(
        "UPDATE case_facts f SET next_alert_date = c.next_alert_date FROM cases c "
        "WHERE c.id = f.case_id AND c.next_alert_date IS NOT NULL"
    )
    # The sweep walks it in (date, case) order: no sort, and never the whole primary key.
    op.create_index(
        'ix_case_facts_alert', 'case_facts', ['next_alert_date', 'case_id'], unique=False,
        postgresql_where=sa.text('next_alert_date IS NOT NULL'),
    )
    _sync(AFTER)
    op.drop_index('ix_cases_next_alert_date', table_name='cases')
    op.execute("ALTER TABLE cases SET (fillfactor = 85)")
    op.drop_index('ix_outbox_events_event_type', table_name='outbox_events')


def downgrade() -> None:
    op.create_index('ix_outbox_events_event_type', 'outbox_events', ['event_type'], unique=False)
    op.execute("ALTER TABLE cases RESET (fillfactor)")
    op.create_index('ix_cases_next_alert_date', 'cases', ['next_alert_date'], unique=False)
    _sync(BEFORE)
    op.drop_index('ix_case_facts_alert', table_name='case_facts', postgresql_where=sa.text('next_alert_date IS NOT NULL'))
    op.drop_column('case_facts', 'next_alert_date')
