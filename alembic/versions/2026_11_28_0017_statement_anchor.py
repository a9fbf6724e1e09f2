"""the chain anchor kept once per statement: the trigger that keeps each case's event_count and event_head equal to
its last event runs once per INSERT on the rows it added (a transition table), moving each case to its highest new
event, instead of once per event row (the deadline sweep's 20,000 events were 20,000 single-row UPDATEs of cases); and
the statistics' copy (case_facts) rewritten on an update only when one of its columns really changed (the sweep
names next_due_date in its UPDATE but rarely moves it)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 18:45:00
"""
from alembic import op

COLUMNS = (
    "kind, field, status, receiving_unit_id, competent_unit_id, received_at, processed_on, processed_as, accepted_on, "
    "settled_on, outcome, reason_code, resolution_late, complaint_round, repeat_of_case_id, enforced_on, remedies, "
    "enforcement, next_due_date"
)  # as in 0016


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = [c.strip() for c in COLUMNS.split(",")]
    old = ", ".join("OLD." + c for c in names)
    new = ", ".join("NEW." + c for c in names)
    op.execute("DROP TRIGGER case_facts_sync ON cases")
    op.execute("CREATE TRIGGER case_facts_sync AFTER INSERT ON cases FOR EACH ROW EXECUTE FUNCTION case_facts_sync()")
    op.execute(f"""
        CREATE TRIGGER case_facts_sync_update AFTER UPDATE OF {COLUMNS} ON cases
        FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION case_facts_sync()
    """)
    op.execute("DROP TRIGGER case_events_anchor ON case_events")
    op.execute("DROP FUNCTION case_events_anchor()")
    op.execute("""
        CREATE FUNCTION case_events_anchor() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cases c SET event_count = n.seq, event_head = n.hash
              FROM (SELECT DISTINCT ON (case_id) case_id, seq, hash FROM new_events ORDER BY case_id, seq DESC) n
             WHERE c.id = n.case_id AND (c.event_count, c.event_head) IS DISTINCT FROM (n.seq, n.hash);
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER case_events_anchor AFTER INSERT ON case_events
        REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION case_events_anchor()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER case_facts_sync_update ON cases")
    op.execute("DROP TRIGGER case_facts_sync ON cases")
    op.execute(f"""
        CREATE TRIGGER case_facts_sync AFTER INSERT OR UPDATE OF {COLUMNS} ON cases
        FOR EACH ROW EXECUTE FUNCTION case_facts_sync()
    """)
    op.execute("DROP TRIGGER case_events_anchor ON case_events")
    op.execute("DROP FUNCTION case_events_anchor()")
    op.execute("""
        CREATE FUNCTION case_events_anchor() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cases SET event_count = NEW.seq, event_head = NEW.hash
             WHERE id = NEW.case_id AND (event_count, event_head) IS DISTINCT FROM (NEW.seq, NEW.hash);
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER case_events_anchor AFTER INSERT ON case_events
        FOR EACH ROW EXECUTE FUNCTION case_events_anchor()
    """)
