"""statistics milestones: when and how each letter was processed, when its settlement ended and whether late, its
enforcement (form 05/KQTH); submitted report forms, frozen (the application role may only insert and read them);
an index for urging notices. Existing cases are backfilled from their event trails.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 15:23:26
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _role() -> str:
    from api.settings import Settings

    role = Settings().db_app_role
    if not role.replace("_", "").isalnum():
        raise ValueError("DB_APP_ROLE must be a plain identifier")
    return role


def _backfill_lateness() -> None:
    """Whether each settled case's resolution period had run out when it ended (due dates are derived from the
    timers with the statutory calendar; an admin's calendar overrides are not replayed here)."""
    from workflows.calendar import WorkCalendar
    from workflows.deadlines import Timer, TimerStatus

    cal = WorkCalendar()
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, timers FROM cases WHERE settled_on IS NOT NULL")).all()
    for case_id, timers in rows:
        late = any(
            t["name"] == "resolution"
            and t.get("completed_on")
            and Timer.from_dict(t).status(cal, Timer.from_dict(t).completed_on) is TimerStatus.met_late
            for t in timers
        )
        bind.execute(sa.text("UPDATE cases SET resolution_late = :late WHERE id = :id"), {"late": late, "id": case_id})


def upgrade() -> None:
    op.create_table('stat_reports',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('form', sa.String(length=8), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_stat_reports_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_stat_reports_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_reports')),
    sa.UniqueConstraint('form', 'period', 'unit_id', name='uq_stat_reports_form_period_unit')
    )
    op.create_index('ix_case_events_urge', 'case_events', ['effective_date'], unique=False, postgresql_where=sa.text("action = 'urge'"))
    op.add_column('cases', sa.Column('processed_on', sa.Date(), nullable=True))
    op.add_column('cases', sa.Column('processed_as', sa.String(length=16), nullable=True))
    op.add_column('cases', sa.Column('settled_on', sa.Date(), nullable=True))
    op.add_column('cases', sa.Column('resolution_late', sa.Boolean(), nullable=True))
    op.add_column('cases', sa.Column('enforced_on', sa.Date(), nullable=True))
    op.add_column('cases', sa.Column('enforcement', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    # Backfill from the trail: the first step out of `received`, and the first step into resolved / terminated.
    op.execute("""
        UPDATE cases c SET processed_on = e.effective_date, processed_as = e.action
        FROM (SELECT DISTINCT ON (case_id) case_id, effective_date, action FROM case_events
              WHERE from_status = 'received' AND to_status IS DISTINCT FROM 'received'
              ORDER BY case_id, seq) e
        WHERE e.case_id = c.id
    """)
    op.execute("""
        UPDATE cases c SET settled_on = e.effective_date
        FROM (SELECT DISTINCT ON (case_id) case_id, effective_date FROM case_events
              WHERE to_status IN ('resolved', 'terminated') AND from_status IS DISTINCT FROM to_status
              ORDER BY case_id, seq) e
        WHERE e.case_id = c.id
    """)
    _backfill_lateness()
    role = _role()
    if role:
        op.execute(f"REVOKE UPDATE, DELETE ON stat_reports FROM {role}")


def downgrade() -> None:
    op.drop_column('cases', 'enforcement')
    op.drop_column('cases', 'enforced_on')
    op.drop_column('cases', 'resolution_late')
    op.drop_column('cases', 'settled_on')
    op.drop_column('cases', 'processed_as')
    op.drop_column('cases', 'processed_on')
    op.drop_index('ix_case_events_urge', table_name='case_events', postgresql_where=sa.text("action = 'urge'"))
    op.drop_table('stat_reports')
