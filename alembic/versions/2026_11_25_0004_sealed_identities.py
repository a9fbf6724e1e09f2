"""sealed identities: denouncers' names, ID numbers, phones and addresses encrypted at rest;
keyed fingerprints of ID numbers for matching

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:42:15.428311
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('case_parties', sa.Column('sealed', sa.Text(), nullable=True))
    op.add_column('case_parties', sa.Column('id_number_hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_case_parties_id_number_hash'), 'case_parties', ['id_number_hash'], unique=False)
    _seal_existing()


def _seal_existing() -> None:
    """Parties written before this revision: fingerprint ID numbers, seal denouncers' identities."""
    from api.settings import Settings
    from api.vault import Vault

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT p.id, p.role, c.kind, p.full_name, p.id_number, p.phone, p.address "
                                "FROM case_parties p JOIN cases c ON c.id = p.case_id")).all()
    if not rows:
        return  # nothing to seal: do not touch (or create) the key
    vault = Vault(tuple(Settings().identity_key_list()))
    for row in rows:
        values = {"id": row.id, "h": vault.fingerprint(row.id_number) if row.id_number else None}
        # Same rule as api.services.case_access.is_secret at this revision.
        if row.role == "denouncer" or (row.kind == "denunciation" and row.role != "accused"):
            values["s"] = vault.seal({"full_name": row.full_name, "id_number": row.id_number, "phone": row.phone,
                                      "address": row.address})
            bind.execute(sa.text("UPDATE case_parties SET sealed = :s, id_number_hash = :h, full_name = '', "
                                 "id_number = NULL, phone = NULL, address = NULL WHERE id = :id"), values)
        else:
            bind.execute(sa.text("UPDATE case_parties SET id_number_hash = :h WHERE id = :id"), values)


def downgrade() -> None:
    from api.settings import Settings
    from api.vault import Vault

    # Going back to clear columns: open every sealed identity first, or it would be lost.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, sealed FROM case_parties WHERE sealed IS NOT NULL")).all()
    vault = Vault(tuple(Settings().identity_key_list())) if rows else None
    for row in rows:
        assert vault is not None
        bind.execute(sa.text("UPDATE case_parties SET full_name = :full_name, id_number = :id_number, "
                             "phone = :phone, address = :address WHERE id = :id"), {"id": row.id, **vault.open(row.sealed)})
    op.drop_index(op.f('ix_case_parties_id_number_hash'), table_name='case_parties')
    op.drop_column('case_parties', 'id_number_hash')
    op.drop_column('case_parties', 'sealed')
