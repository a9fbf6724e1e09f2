"""rating comments and the exact positions of citizens' letters sealed at rest (issue 21, the outside audit)

No schema: a rating's comment becomes a Fernet token under IDENTITY_KEYS (JSON {comment}) in the same text column,
and a citizen's letter keeps its exact position sealed in `cases.location["sealed"]` (JSON {lat, long}), in clear
only its commune and, where its sender is not protected (not a denunciation, no identity protection asked), a
position rounded to 0.01° (api/services/citizen/seal.py writes new rows so). The rows written in clear before
are sealed here with the application's keys (the application role may not update a rating: append-only for the
service); a downgrade opens them again.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 15:00:00
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

FERNET_PREFIX = "gAAAAA"  # every Fernet token begins so (version byte 0x80, then the timestamp's high bytes)


def _vault():  # type: ignore[no-untyped-def]
    from api.settings import Settings
    from api.vault import Vault

    return Vault(tuple(Settings().identity_key_list()))


def upgrade() -> None:
    bind = op.get_bind()
    comments = bind.execute(sa.text(
        "SELECT case_id, comment FROM case_ratings WHERE comment IS NOT NULL AND left(comment, 6) <> :p"
    ), {"p": FERNET_PREFIX}).all()
    positions = bind.execute(sa.text(
        "SELECT id, kind, identity_protected, location FROM cases "
        "WHERE location ->> 'lat' IS NOT NULL AND location ->> 'sealed' IS NULL ORDER BY id"
    )).all()
    if not comments and not positions:
        return  # nothing to seal: do not touch (or create) the keys
    vault = _vault()
    for row in comments:
        bind.execute(sa.text("UPDATE case_ratings SET comment = :c WHERE case_id = :id"),
                     {"c": vault.seal({"comment": row.comment}), "id": row.case_id})
    for row in positions:
        loc = dict(row.location)
        lat, long = loc.pop("lat"), loc.pop("long")  # given together (public.Location)
        loc["sealed"] = vault.seal({"lat": lat, "long": long})
        if row.kind != "denunciation" and not row.identity_protected:  # a coarse position only where unprotected
            loc["lat"], loc["long"] = round(float(lat), 2), round(float(long), 2)
        bind.execute(sa.text("UPDATE cases SET location = CAST(:l AS jsonb) WHERE id = :id"),
                     {"l": json.dumps(loc, ensure_ascii=False), "id": row.id})


def downgrade() -> None:
    bind = op.get_bind()
    comments = bind.execute(sa.text(
        "SELECT case_id, comment FROM case_ratings WHERE left(comment, 6) = :p"
    ), {"p": FERNET_PREFIX}).all()
    positions = bind.execute(sa.text(
        "SELECT id, location FROM cases WHERE location ->> 'sealed' IS NOT NULL ORDER BY id"
    )).all()
    if not comments and not positions:
        return
    vault = _vault()
    for row in comments:
        bind.execute(sa.text("UPDATE case_ratings SET comment = :c WHERE case_id = :id"),
                     {"c": vault.open(row.comment)["comment"], "id": row.case_id})
    for row in positions:
        loc = dict(row.location)
        loc.update(vault.open(loc.pop("sealed")))
        bind.execute(sa.text("UPDATE cases SET location = CAST(:l AS jsonb) WHERE id = :id"),
                     {"l": json.dumps(loc, ensure_ascii=False), "id": row.id})
