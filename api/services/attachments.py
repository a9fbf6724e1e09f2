"""Attachments: images, PDF and audio a citizen or an officer adds to a case. The type is read from the content
(never from the name or the declared type), the SHA-256 recorded, the name made safe, and the bytes kept behind a
small storage interface (local disk by default; an S3-compatible store can implement the same three methods)."""

import asyncio
import hashlib
import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.public import Attachment, AttachmentOut
from api.services import audit

MAX_PER_CASE = 20


class Storage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one directory, named by a random key (never by what the uploader called them)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not re.fullmatch(r"[a-f0-9]{2}/[a-f0-9]{40}", key):
            raise ValueError("not a storage key")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among those accepted; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if data[4:8] == b"ftyp" and data[8:11] in (b"M4A", b"isom", b"mp42"[:3]):
        return "audio/mp4"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "audio/wav"
    return None


EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/pdf": ".pdf",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "audio/wav": ".wav",
}


def safe_filename(name: str | None, content_type: str) -> str:
    """The uploader's name without any path, control or odd characters, at most 100 characters, ending with the
    extension of what the content really is."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = re.sub(r"[^\w .()-]", "_", base).strip(" .")
    stem = os.path.splitext(base)[0][:90] or "tep-dinh-kem"
    return stem + EXTENSIONS[content_type]


async def add(
    session: AsyncSession,
    storage: Storage,
    case: Case,
    filename: str | None,
    data: bytes,
    *,
    uploaded_by: str,
    actor_id: int | None,
    max_bytes: int,
) -> AttachmentOut:
    if len(data) > max_bytes:
        raise DomainError(Code.attachment_too_large, details={"max_bytes": max_bytes})
    content_type = sniff(data)
    if content_type is None:
        raise DomainError(Code.attachment_type_refused, details={"allowed": sorted(EXTENSIONS)})
    count = await session.scalar(sa.select(sa.func.count()).where(Attachment.case_id == case.id))
    if (count or 0) >= MAX_PER_CASE:
        raise DomainError(Code.validation_error, details={"field": "file", "hint": f"at most {MAX_PER_CASE} files"})
    digest = hashlib.sha256(data).hexdigest()
    key = secrets.token_hex(20)
    key = f"{key[:2]}/{key}"
    await storage.put(key, data)
    assert case.id is not None
    row = Attachment(
        case_id=case.id,
        filename=safe_filename(filename, content_type),
        content_type=content_type,
        size=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by=uploaded_by,
    )
    session.add(row)
    try:
        await session.flush()
        audit.record(
            session,
            actor_id=actor_id,
            entity="attachment",
            entity_id=row.id,
            action="upload",
            payload={"case_id": case.id, "sha256": digest, "size": len(data), "by": uploaded_by},
        )
        await session.commit()
    except BaseException:
        await storage.delete(key)  # nothing half written: no file without its row
        raise
    return out(row)


def out(row: Attachment) -> AttachmentOut:
    assert row.id is not None
    return AttachmentOut(
        id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )


async def listed(session: AsyncSession, case_id: int) -> list[AttachmentOut]:
    rows = (
        await session.scalars(sa.select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
    ).all()
    return [out(r) for r in rows]


async def one(session: AsyncSession, case_id: int, attachment_id: int) -> Attachment:
    row: Attachment | None = await session.scalar(
        sa.select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case_id)
    )
    if row is None:
        raise DomainError(Code.attachment_not_found)
    return row
