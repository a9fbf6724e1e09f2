"""key check values, contiguous checkpoints, the chain covers the case row (issue 21)

key_checks: one keyed check value per key kind, written on the service's first start (api/services/keychecks.py);
the application role may read and add them, never change them. chain_checkpoints: numbered 1, 2, … in the order
they were made (seq) and chained (prev_signature: the signature of the one before, signed by the next one).
Checkpoints made before this revision keep prev_signature NULL and are verified with the signature they had.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 13:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _role() -> str:
    from api.settings import Settings

    role = Settings().db_app_role
    if not role.replace("_", "").isalnum():
        raise ValueError("DB_APP_ROLE must be a plain identifier")
    return role


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_key_checks")),
    )
    op.add_column("chain_checkpoints", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("chain_checkpoints", sa.Column("prev_signature", sa.String(length=64), nullable=True))
    op.execute("""
        UPDATE chain_checkpoints c SET seq = n.seq
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS seq FROM chain_checkpoints) n WHERE n.id = c.id
    """)
    op.alter_column("chain_checkpoints", "seq", nullable=False)
    op.create_unique_constraint(op.f("uq_chain_checkpoints_seq"), "chain_checkpoints", ["seq"])
    role = _role()
    if role:
        op.execute(f"GRANT SELECT, INSERT ON key_checks TO {role}")
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON key_checks FROM {role}")


def downgrade() -> None:
    op.drop_constraint(op.f("uq_chain_checkpoints_seq"), "chain_checkpoints", type_="unique")
    op.drop_column("chain_checkpoints", "prev_signature")
    op.drop_column("chain_checkpoints", "seq")
    op.drop_table("key_checks")
