"""Attachment bytes kept in PostgreSQL (issue 26): each stored file is a run of chunks, each chunk one Fernet token
under the identity keys (api/services/citizen/blobs.py), so every replica, backup and read replica holds the files
with the records they belong to, and none of them a readable byte."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from api.models.base import created_at_column


class AttachmentChunk(SQLModel, table=True):
    """One sealed chunk of a stored file: its storage key (`attachments.storage_key` or `copy_key`), its place
    in the file from 0, and the sealed bytes (the chunk's Fernet token, not base64-armoured). The last chunk of a
    file says so inside its seal, so a file cut short does not open."""

    __tablename__ = "attachment_chunks"

    key: str = SQLField(sa_column=sa.Column(sa.String(200), primary_key=True))
    seq: int = SQLField(sa_column=sa.Column(sa.Integer, primary_key=True))
    data: bytes = SQLField(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    created_at: datetime | None = SQLField(default=None, sa_column=created_at_column())

    __table_args__ = (sa.CheckConstraint("seq >= 0", name="chunk_seq_natural"),)
