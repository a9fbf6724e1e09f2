"""stats data versions: a counter per table the statistics read, bumped by triggers in the transaction of every
change (case_facts, the urging events, users' units, units, the register, the sittings, ratings, the calendar), so
a cached form is keyed by the data it counts; the cache of the forms (stats_cache, shared by every API process);
covering indexes for the dashboard's summary

Each source has SLOTS rows; a writing transaction bumps the row of its backend's slot once (a transaction-local
setting remembers it), so concurrent writers of different connections do not queue on one row. A source's
version is the sum of its slots: every committed transaction that changed the source raises it.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 15:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

SLOTS = 16
# (source, table, when): a statement-level trigger on every change of the table, unless a row condition is given
# (then row-level triggers whose WHEN selects the rows that count).
STATEMENT_SOURCES = (
    ("case_facts", "case_facts"),
    ("units", "units"),
    ("reception_entries", "reception_entries"),
    ("reception_sessions", "reception_sessions"),
    ("case_ratings", "case_ratings"),
    ("calendar", "calendar_overrides"),
)
SOURCES = (
    "case_facts", "urges", "users", "units", "reception_entries", "reception_sessions", "case_ratings", "calendar",
)


def upgrade() -> None:
    op.create_table(
        'stats_data_versions',
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('slot', sa.SmallInteger(), nullable=False),
        sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('source', 'slot', name=op.f('pk_stats_data_versions')),
    )
    op.create_table(
        'stats_cache',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('version', sa.String(length=400), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_stats_cache')),
    )
    # Fillfactor: the counters are rewritten in place (HOT) by every writing transaction.
    op.execute("ALTER TABLE stats_data_versions SET (fillfactor = 50)")
    op.execute(
        "INSERT INTO stats_data_versions (source, slot) SELECT s, n FROM unnest(ARRAY["
        + ", ".join(f"'{s}'" for s in SOURCES)
        + f"]) s, generate_series(0, {SLOTS - 1}) n"
    )
    op.execute(f"""
        CREATE FUNCTION stats_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            mark text := 'tiepdan_stats.' || TG_ARGV[0];
            tx text := txid_current()::text;
        BEGIN
            IF current_setting(mark, true) IS DISTINCT FROM tx THEN
                INSERT INTO stats_data_versions (source, slot, version)
                VALUES (TG_ARGV[0], pg_backend_pid() % {SLOTS}, 1)
                ON CONFLICT (source, slot) DO UPDATE SET version = stats_data_versions.version + 1;
                PERFORM set_config(mark, tx, true);
            END IF;
            RETURN NULL;
        END $$
    """)
    for source, table in STATEMENT_SOURCES:
        op.execute(f"""
            CREATE TRIGGER {table}_stats_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION stats_bump('{source}')
        """)
    # Urging notices: only `urge` events are counted (02/XLD); events are append-only, the other triggers are there
    # so that the proof does not rest on that.
    op.execute("""
        CREATE TRIGGER case_events_stats_bump_insert AFTER INSERT ON case_events
        FOR EACH ROW WHEN (NEW.action = 'urge') EXECUTE FUNCTION stats_bump('urges')
    """)
    op.execute("""
        CREATE TRIGGER case_events_stats_bump_update AFTER UPDATE ON case_events
        FOR EACH ROW WHEN (OLD.action = 'urge' OR NEW.action = 'urge') EXECUTE FUNCTION stats_bump('urges')
    """)
    op.execute("""
        CREATE TRIGGER case_events_stats_bump_delete AFTER DELETE ON case_events
        FOR EACH ROW WHEN (OLD.action = 'urge') EXECUTE FUNCTION stats_bump('urges')
    """)
    op.execute("""
        CREATE TRIGGER case_events_stats_bump_truncate AFTER TRUNCATE ON case_events
        FOR EACH STATEMENT EXECUTE FUNCTION stats_bump('urges')
    """)
    # Users: an urge counts for its author's unit (a sign-in's bookkeeping does not touch unit_id).
    op.execute("""
        CREATE TRIGGER users_stats_bump AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF unit_id ON users
        FOR EACH STATEMENT EXECUTE FUNCTION stats_bump('users')
    """)
    # The summary's passes over a period's letters and settled matters read only these indexes (index-only scans).
    op.execute(
        "CREATE INDEX ixx_case_facts_received_cover ON case_facts (received_at) "
        "INCLUDE (competent_unit_id, kind, status, field)"
    )
    op.execute(
        "CREATE INDEX ixx_case_facts_settled_cover ON case_facts (settled_on) "
        "INCLUDE (competent_unit_id, resolution_late, received_at) WHERE settled_on IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ixx_case_facts_due_cover ON case_facts (next_due_date) "
        "INCLUDE (competent_unit_id, status) WHERE next_due_date IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ixx_case_facts_due_cover")
    op.execute("DROP INDEX ixx_case_facts_settled_cover")
    op.execute("DROP INDEX ixx_case_facts_received_cover")
    op.execute("DROP TRIGGER users_stats_bump ON users")
    for suffix in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER case_events_stats_bump_{suffix} ON case_events")
    for _, table in STATEMENT_SOURCES:
        op.execute(f"DROP TRIGGER {table}_stats_bump ON {table}")
    op.execute("DROP FUNCTION stats_bump()")
    op.drop_table('stats_cache')
    op.drop_table('stats_data_versions')
