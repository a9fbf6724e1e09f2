"""cache versions: a counter per cached table, bumped by a trigger on every change, so each API process
knows at once when its cached copy (the calendar overrides) is stale

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cache_versions',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions')),
    )
    op.execute("INSERT INTO cache_versions (name, version) VALUES ('calendar', 0)")
    op.execute("""
        CREATE FUNCTION bump_cache_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cache_versions SET version = version + 1 WHERE name = TG_ARGV[0];
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER calendar_overrides_bump_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON calendar_overrides FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('calendar')
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER calendar_overrides_bump_cache ON calendar_overrides")
    op.execute("DROP FUNCTION bump_cache_version()")
    op.drop_table('cache_versions')
