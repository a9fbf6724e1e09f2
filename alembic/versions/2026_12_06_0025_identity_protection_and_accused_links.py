"""a case whose sender asked for identity protection is protected like a denunciation; a protected register line's
referrals sealed with it (issue 21: F2, F5, F8)

`cases.identity_protected`: set at intake when the sender asks for identity protection (a register entry's
`identity_protection_requested`, or desk intake's), kept through transfers; the case's parties but the accused and
the respondent are then sealed and masked, and its title, content and reasons sealed, as on a denunciation. No
existing case had a way to ask for it, so none is set here.

A sealed register line's `previously_handled_by`, `guided_to`, `guided_doc`, `transferred_to` and
`transferred_doc` join the rest of its sealed part (the clear columns keep "" where there was a value, NULL where
there was none). Existing sealed lines are sealed here with the application's keys, as revision 0020 did their
persons and content; a downgrade opens them again. Accused links added after intake are party rows and chained
events: no schema.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

REFERRALS = ("previously_handled_by", "guided_to", "guided_doc", "transferred_to", "transferred_doc")
_ANY_CLEAR = " OR ".join(f"coalesce({c}, '') <> ''" for c in REFERRALS)
_ANY_SEALED = " OR ".join(f"{c} = ''" for c in REFERRALS)


def _vault():  # type: ignore[no-untyped-def]
    from api.settings import Settings
    from api.vault import Vault

    return Vault(tuple(Settings().identity_key_list()))


def upgrade() -> None:
    op.add_column(
        'cases', sa.Column('identity_protected', sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f"SELECT id, sealed, {', '.join(REFERRALS)} FROM reception_entries "  # noqa: S608
        f"WHERE sealed IS NOT NULL AND ({_ANY_CLEAR}) ORDER BY id"
    )).all()
    if not rows:
        return  # nothing to seal: do not touch (or create) the keys
    vault = _vault()
    for row in rows:
        opened = vault.open(row.sealed)
        opened.update({c: getattr(row, c) for c in REFERRALS})
        sets = ", ".join(f"{c} = CASE WHEN {c} IS NULL THEN NULL ELSE '' END" for c in REFERRALS)
        bind.execute(sa.text(f"UPDATE reception_entries SET sealed = :sealed, {sets} WHERE id = :id"),  # noqa: S608
                     {"id": row.id, "sealed": vault.seal(opened)})


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        f"SELECT id, sealed FROM reception_entries WHERE sealed IS NOT NULL AND ({_ANY_SEALED}) ORDER BY id"  # noqa: S608
    )).all()
    if rows:
        vault = _vault()
        for row in rows:
            opened = vault.open(row.sealed)
            values = {c: opened.pop(c, None) for c in REFERRALS}
            sets = ", ".join(f"{c} = CASE WHEN {c} = '' THEN :{c} ELSE {c} END" for c in REFERRALS)
            bind.execute(sa.text(f"UPDATE reception_entries SET sealed = :sealed, {sets} WHERE id = :id"),  # noqa: S608
                         {"id": row.id, "sealed": vault.seal(opened), **values})
    op.drop_column('cases', 'identity_protected')
