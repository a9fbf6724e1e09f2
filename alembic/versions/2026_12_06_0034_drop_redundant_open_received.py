"""the open cases' received-date index that 0033 made redundant is dropped: one entry fewer for every letter written

`ix_cases_open_received` (received_at, id, open cases only) is the leading part of `ixx_cases_open_received_due`
(received_at, id, next_due_date, open cases only, migration 0033): every query it served is served by the newer one,
and every letter taken in wrote an entry in both. Dropped CONCURRENTLY (the table stays writable); the downgrade builds
it again the same way. A contract step that no release's code depends on (queries name no index).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 17:10:00
"""
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_cases_open_received")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_cases_open_received "
            "ON cases (received_at, id) WHERE next_due_date IS NOT NULL"
        )
