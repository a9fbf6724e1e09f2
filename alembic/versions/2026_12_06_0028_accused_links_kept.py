"""an accused link removed from a case is kept (removed_at), so the officer once named never reads the case again; the case's state digest versioned

`case_parties.removed_at`/`removed_by_id`: DELETE /cases/{id}/accused/{party_id} (the holding unit's head, with a
reason) marks the link removed instead of deleting it. No row existed to mark: links removed before were deleted.
The state digest's version 2 (payload "state" prefixed "v2:") covers these and the case's received_by_id; the
states recorded before keep verifying under version 1, so nothing here rewrites events.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 14:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('case_parties', sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('case_parties', sa.Column('removed_by_id', sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f('fk_case_parties_removed_by_id_users'), 'case_parties', 'users', ['removed_by_id'], ['id']
    )


def downgrade() -> None:
    # A link removed becomes a plain accused link again (the safe side: its officer stays excluded from the case).
    op.drop_constraint(op.f('fk_case_parties_removed_by_id_users'), 'case_parties', type_='foreignkey')
    op.drop_column('case_parties', 'removed_by_id')
    op.drop_column('case_parties', 'removed_at')
