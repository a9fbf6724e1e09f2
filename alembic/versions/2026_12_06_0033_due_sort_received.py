"""the due-date order in a received-date range, and the overdue list, without reading open cases' rows (issue 26)

`ixx_cases_due_sort` (coalesce(next_due_date, '9000-01-01'), id) becomes `ixx_cases_due_sort_received`
(coalesce(next_due_date, '9000-01-01'), id, received_at): the same order (the list's keyset), and the received date
in the index tuple, so a range on it is checked in the index (an Index Cond) instead of on each row of the heap. A
list of a received-date range sorted by due date walked the due-date index through every open case (170,000 of 1M,
160,000 heap pages) to find the range's few open ones: 154–290 ms; now 10–20 ms (EXPLAIN ANALYZE in
bench/RESULTS.md, session 9, issue 26). The old index is dropped once the new one exists: one index more on cases
would be one more entry for every letter written.

The overdue list (newest first) had the same shape: it walks `ix_cases_open_received` (received_at, id, open cases
only) and checked `next_due_date < today` on each heap row — at 5M cases 76,671 open rows read before 51 overdue
ones, 269 ms; `ixx_cases_open_received_due` (received_at, id, next_due_date, open cases only) checks it in the
index: 2.7 ms. The model's `ix_cases_open_received` becomes redundant (a subset of the new one) and is left to the
cases model's owner to drop (models and migrations must agree).

Built CONCURRENTLY (outside the migration's transaction: alembic's autocommit block), so the cases table stays
writable while a big table's index is built; IF [NOT] EXISTS so that a build interrupted and run again (an invalid
index left by a failed concurrent build must be dropped by hand first) or a downgrade repeated does no harm. An
expand step for the release before: its queries name no index.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 16:20:00
"""
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

DUE = "(coalesce(next_due_date, '9000-01-01'::date))"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS ixx_cases_due_sort_received ON cases ({DUE}, id, received_at)"
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ixx_cases_due_sort")
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ixx_cases_open_received_due "
            "ON cases (received_at, id, next_due_date) WHERE next_due_date IS NOT NULL"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ixx_cases_open_received_due")
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS ixx_cases_due_sort ON cases ({DUE}, id)")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ixx_cases_due_sort_received")
