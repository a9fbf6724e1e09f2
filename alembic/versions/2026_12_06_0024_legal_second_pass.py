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


def upgrade() -> None:
    # Notice timers: nothing to rewrite. Every notification duty already stored on a case (Decree 155/2026's
    # notify_suspension / notify_resumption / notify_termination included) stays as it is, and a notice recorded
    # now with its real date meets it (met, or met_late after its due date).
    # Complaints against a disciplinary decision on an officer (LKN art. 46–51); existing cases are not.
    op.add_column(
        'cases', sa.Column('disciplinary', sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column('cases', 'disciplinary')
