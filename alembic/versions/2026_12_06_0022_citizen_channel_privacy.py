"""the citizen channel keeps no client address; attachments sealed, stripped copies, quotas (issue 21)

Attachments: the uploader's file name and the original's SHA-256 move into one sealed column (Fernet under
IDENTITY_KEYS), the bytes of files already stored are sealed in place, and a metadata-stripped copy may be kept
beside each (copy_key, copy_size, copy_sha256; files stored before this revision get none). Anonymous uploads
are counted per day in upload_quotas, by keyed daily hashes of addresses and devices (never an address).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 13:00:00
"""
from pathlib import Path

from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def _store_and_fernet():  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet, MultiFernet

    from api.settings import Settings

    settings = Settings()
    root = Path(settings.attachments_dir) if settings.attachments_dir else settings.data_dir / "attachments"
    return root, MultiFernet([Fernet(k.encode()) for k in settings.identity_key_list()])


def upgrade() -> None:
    op.add_column('attachments', sa.Column('sealed', sa.Text(), nullable=True))
    op.add_column('attachments', sa.Column('copy_key', sa.String(length=200), nullable=True))
    op.add_column('attachments', sa.Column('copy_size', sa.BigInteger(), nullable=True))
    op.add_column('attachments', sa.Column('copy_sha256', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, filename, sha256, storage_key FROM attachments")).all()
    if rows:  # nothing to seal: do not touch (or create) the key
        import json

        root, fernet = _store_and_fernet()
        for row in rows:
            meta = json.dumps({"filename": row.filename, "sha256": row.sha256}, ensure_ascii=False).encode()
            bind.execute(sa.text("UPDATE attachments SET sealed = :s WHERE id = :id"),
                         {"s": fernet.encrypt(meta).decode(), "id": row.id})
            path = root / row.storage_key
            if path.exists():
                data = path.read_bytes()
                tmp = path.with_suffix(".sealing")
                tmp.write_bytes(fernet.encrypt(data))
                tmp.chmod(0o600)
                tmp.replace(path)
    op.alter_column('attachments', 'sealed', nullable=False)
    op.drop_column('attachments', 'filename')
    op.drop_column('attachments', 'sha256')
    op.create_table('upload_quotas',
    sa.Column('bucket', sa.String(length=80), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'day', name=op.f('pk_upload_quotas'))
    )


def downgrade() -> None:
    op.drop_table('upload_quotas')
    op.add_column('attachments', sa.Column('filename', sa.String(length=120), nullable=True))
    op.add_column('attachments', sa.Column('sha256', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, sealed, storage_key, copy_key FROM attachments")).all()
    if rows:
        import json

        root, fernet = _store_and_fernet()
        for row in rows:
            meta = json.loads(fernet.decrypt(row.sealed.encode()))
            bind.execute(sa.text("UPDATE attachments SET filename = :f, sha256 = :h WHERE id = :id"),
                         {"f": meta["filename"], "h": meta["sha256"], "id": row.id})
            path = root / row.storage_key
            if path.exists():
                tmp = path.with_suffix(".opening")
                tmp.write_bytes(fernet.decrypt(path.read_bytes()))
                tmp.chmod(0o600)
                tmp.replace(path)
            if row.copy_key:
                (root / row.copy_key).unlink(missing_ok=True)
    op.alter_column('attachments', 'filename', nullable=False)
    op.alter_column('attachments', 'sha256', nullable=False)
    op.drop_column('attachments', 'copy_sha256')
    op.drop_column('attachments', 'copy_size')
    op.drop_column('attachments', 'copy_key')
    op.drop_column('attachments', 'sealed')
