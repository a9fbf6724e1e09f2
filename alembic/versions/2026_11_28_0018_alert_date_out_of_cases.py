"""the deadline sweep's alert dates in a narrow table of their own (case_alerts, kept by a trigger on cases in the
same transaction as every change) instead of an index on cases, and room left on each page of cases (fillfactor
85): the sweep's UPDATE of a case's timers then changes no indexed column of cases, and PostgreSQL writes it in
place (a HOT update) instead of adding an entry to each of the eighteen indexes of cases, the two text (GIN)
indexes among them; the alert moves in a two-column row with two index entries. Pages written before this
revision keep their fill until they are rewritten. The outbox's index on the event type goes too: nothing looks
events up by their type, and every intake and every breach the sweep records paid for an entry in it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 21:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_alerts',
        sa.Column('case_id', sa.BigInteger(), nullable=False),
        sa.Column('next_alert_date', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_case_alerts_case_id_cases'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_alerts')),
    )
    # The sweep walks it in (date, case) order: no sort, and never more than the cases that are due.
    op.create_index('ix_case_alerts_due', 'case_alerts', ['next_alert_date', 'case_id'], unique=False)
    op.execute("""
        CREATE FUNCTION case_alerts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO case_alerts (case_id, next_alert_date) VALUES (NEW.id, NEW.next_alert_date);
            ELSIF NEW.next_alert_date IS NULL THEN
                DELETE FROM case_alerts WHERE case_id = NEW.id;
            ELSE
                UPDATE case_alerts SET next_alert_date = NEW.next_alert_date WHERE case_id = NEW.id;
                IF NOT FOUND THEN
                    INSERT INTO case_alerts (case_id, next_alert_date) VALUES (NEW.id, NEW.next_alert_date);
                END IF;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER case_alerts_sync AFTER INSERT ON cases
        FOR EACH ROW WHEN (NEW.next_alert_date IS NOT NULL) EXECUTE FUNCTION case_alerts_sync()
    """)
    op.execute("""
        CREATE TRIGGER case_alerts_sync_update AFTER UPDATE OF next_alert_date ON cases
        FOR EACH ROW WHEN (OLD.next_alert_date IS DISTINCT FROM NEW.next_alert_date) EXECUTE FUNCTION case_alerts_sync()
    """)
    op.execute(
        "INSERT INTO case_alerts (case_id, next_alert_date) "
        "SELECT id, next_alert_date FROM cases WHERE next_alert_date IS NOT NULL"
    )
    op.drop_index('ix_cases_next_alert_date', table_name='cases')
    op.execute("ALTER TABLE cases SET (fillfactor = 85)")
    op.drop_index('ix_outbox_events_event_type', table_name='outbox_events')


def downgrade() -> None:
    op.create_index('ix_outbox_events_event_type', 'outbox_events', ['event_type'], unique=False)
    op.execute("ALTER TABLE cases RESET (fillfactor)")
    op.create_index('ix_cases_next_alert_date', 'cases', ['next_alert_date'], unique=False)
    op.execute("DROP TRIGGER case_alerts_sync_update ON cases")
    op.execute("DROP TRIGGER case_alerts_sync ON cases")
    op.execute("DROP FUNCTION case_alerts_sync()")
    op.drop_index('ix_case_alerts_due', table_name='case_alerts')
    op.drop_table('case_alerts')
