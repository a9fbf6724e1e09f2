"""attachment bytes in PostgreSQL: attachment_chunks, each stored file a run of sealed chunks (issue 26)

`attachment_chunks` (key, seq) -> data: the chunks of one stored file, each its own Fernet token under the identity
keys (the file store's seal, per chunk), keyed by the storage key the `attachments` row already names
(`storage_key`, `copy_key`); the `attachments` table itself is unchanged. The chunks are stored EXTERNAL (out of line,
never compressed: sealed bytes do not compress). An expand step only: the code of the release before ignores the
new table, so it keeps serving while this one is deployed. Files already on disk are moved by
`python -m api migrate-attachments` (not by this migration: the keys are not the migrations').

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 15:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'attachment_chunks',
        sa.Column('key', sa.String(200), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint('seq >= 0', name=op.f('ck_attachment_chunks_chunk_seq_natural')),
        sa.PrimaryKeyConstraint('key', 'seq', name=op.f('pk_attachment_chunks')),
    )
    op.execute('ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade() -> None:
    # The files kept in the database would go with the table: refused while any is there. Move them to a directory
    # store first (`python -m api migrate-attachments --to local`, then ATTACHMENT_STORAGE=local).
    if op.get_bind().execute(sa.text('SELECT EXISTS (SELECT 1 FROM attachment_chunks)')).scalar():
        raise RuntimeError(
            'attachment_chunks holds files: run `python -m api migrate-attachments --to local` before downgrading'
        )
    op.drop_table('attachment_chunks')
