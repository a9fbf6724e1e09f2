"""the reception register follows its case's read rules; a case always keeps an overseer (issue 21)

A denunciation entry's content, and every line of a visitor who asked for identity protection (persons,
representatives, notes, follow-up, content), are sealed under IDENTITY_KEYS like a case's protected identities;
the clear columns keep only how many persons came (and an empty content). Existing rows are sealed here with the
application's keys, as revision 0004 sealed the case parties. The read rules and the overseer rule need no schema.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 13:00:00
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_TO_SEAL = sa.text(
    "SELECT id, kind, content, persons, representatives, notes, follow_up, sealed FROM reception_entries "
    "WHERE (kind = 'denunciation' OR identity_protection_requested) AND content <> '' ORDER BY id"
)


def _vault():  # type: ignore[no-untyped-def]
    from api.settings import Settings
    from api.vault import Vault

    return Vault(tuple(Settings().identity_key_list()))


def _json(value):  # type: ignore[no-untyped-def]
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(_TO_SEAL).all()
    if not rows:
        return  # nothing to seal: do not touch (or create) the keys
    vault = _vault()
    for row in rows:
        if row.sealed is not None:  # a denunciation entry (revision 0013 sealed its persons): add the content
            opened = vault.open(row.sealed)
        else:
            opened = {"persons": _json(row.persons), "representatives": _json(row.representatives),
                      "notes": row.notes, "follow_up": row.follow_up}
        opened["content"] = row.content
        bind.execute(
            sa.text(
                "UPDATE reception_entries SET sealed = :sealed, content = '', "
                "persons = CAST(:persons AS jsonb), representatives = CAST(:reps AS jsonb), "
                "notes = CASE WHEN notes IS NULL THEN NULL ELSE '' END, "
                "follow_up = CASE WHEN follow_up IS NULL THEN NULL ELSE '' END WHERE id = :id"
            ),
            {
                "id": row.id,
                "sealed": vault.seal(opened),
                "persons": json.dumps([{} for _ in opened["persons"]]),
                "reps": json.dumps([{} for _ in opened["representatives"]]),
            },
        )


def downgrade() -> None:
    # Back to revision 0013's form: the content in clear again; a denunciation's persons stay sealed, the other
    # protected lines are opened (0013 sealed denunciations only).
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, kind, sealed FROM reception_entries WHERE sealed IS NOT NULL AND content = '' ORDER BY id"
    )).all()
    if not rows:
        return
    vault = _vault()
    for row in rows:
        opened = vault.open(row.sealed)
        content = opened.pop("content", "")
        if row.kind == "denunciation":
            bind.execute(sa.text("UPDATE reception_entries SET content = :content, sealed = :sealed WHERE id = :id"),
                         {"id": row.id, "content": content, "sealed": vault.seal(opened)})
        else:
            bind.execute(
                sa.text(
                    "UPDATE reception_entries SET content = :content, sealed = NULL, "
                    "persons = CAST(:persons AS jsonb), representatives = CAST(:reps AS jsonb), "
                    "notes = :notes, follow_up = :follow_up WHERE id = :id"
                ),
                {"id": row.id, "content": content, "persons": json.dumps(opened["persons"], ensure_ascii=False),
                 "reps": json.dumps(opened["representatives"], ensure_ascii=False), "notes": opened.get("notes"),
                 "follow_up": opened.get("follow_up")},
            )
