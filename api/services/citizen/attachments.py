"""Attachments: images, PDF and audio a citizen or an officer adds to a case. The type is read from the content
(never from the name or the declared type), the SHA-256 recorded, the name made safe, and the bytes kept behind a
small storage interface (`storage`: local disk by default; an S3-compatible store can implement the same three
methods). The citizen's files and the officers' files of a case are counted apart (MAX_FILES each, and bytes:
UPLOAD_BYTES_PER_CASE for the citizen, OFFICER_UPLOAD_BYTES_PER_CASE for the officers), so that no officer can use
up the room left for the citizen's evidence; a citizen's uploads also count against daily quotas (per address, per
device, in all).

Nothing at rest names the sender: the bytes are sealed under the identity keys (`storage.SealedStorage`, Fernet
around any `Storage`), and the name and the SHA-256 of the original are sealed in the row. A photo or PDF also gets
a copy rebuilt from its pixels (`clean_copy`: no EXIF/XMP, GPS position, device, author or software survives),
sealed too, its SHA-256 sealed in the row as well (`clean_copy` is deterministic: whoever holds a dump and the
photo could make the same copy, and a clear SHA-256 of it would name the denunciation carrying the photo; the
`copy_sha256` column stays NULL, and `seal-existing` seals what older revisions wrote there). On a case with
protected parties (a denunciation) those who may not see the denouncer get only that copy, under a neutral name,
and nothing where no copy could be made (audio, an image or PDF that does not open)."""

import asyncio
import hashlib
import io
import math
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case, CaseAssignment
from api.models.public import Attachment, AttachmentOut
from api.services import audit
from api.services.cases import access
from api.services.citizen.storage import SealedStorage, new_key
from api.settings import Settings
from workflows import confidentiality
from workflows.cases import TERMINAL, Role

# Files per case, the citizen's and the officers' each counted apart: an officer's uploads never use up the room
# left for the citizen's evidence (and the officers' bytes have their own quota, OFFICER_UPLOAD_BYTES_PER_CASE).
MAX_FILES = {"citizen": 20, "officer": 20}
MAX_IMAGE_PIXELS = 50_000_000  # an image larger than this gets no copy (decompression bombs)
MAX_PDF_PAGES = 20  # a longer PDF gets no copy (each page is rendered to pixels)
PDF_DPI = 110
MAX_PAGE_PIXELS = 8_000_000
_PDFIUM = threading.Lock()


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


def _clean_image(data: bytes, content_type: str) -> bytes | None:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        if opened.width * opened.height > MAX_IMAGE_PIXELS:
            return None
        upright = ImageOps.exif_transpose(opened)  # the picture as it was taken (the EXIF goes below)
        alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
        grey = upright.mode in ("1", "L", "LA", "I", "I;16", "F")
        if content_type == "image/jpeg":
            mode = "L" if grey else "RGB"
        else:
            mode = ("LA" if grey else "RGBA") if alpha else ("L" if grey else "RGB")
        pixels = upright.convert(mode)
        del upright  # large photos: keep as few full copies alive at once as possible
        # A new image from the bare pixels: no EXIF, XMP, ICC profile, comment or text chunk can follow.
        bare = Image.frombytes(mode, pixels.size, pixels.tobytes())
        del pixels
    out = io.BytesIO()
    if content_type == "image/jpeg":
        bare.save(out, "JPEG", quality=90)
    else:
        bare.save(out, "PNG")
    return out.getvalue()


def _clean_pdf(data: bytes) -> bytes | None:
    """Each page rendered to pixels (PDFium) and the pixels made a new PDF: no document information, XMP,
    annotation author, embedded file, script or image metadata of the original survives."""
    with _PDFIUM:  # PDFium is not thread-safe: one document at a time in the process
        return _render_pdf(data)


def _render_pdf(data: bytes) -> bytes | None:
    import pypdfium2 as pdfium
    from PIL import Image

    doc = pdfium.PdfDocument(data)
    try:
        if not 0 < len(doc) <= MAX_PDF_PAGES:
            return None
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            try:
                width, height = page.get_size()  # points
                scale = PDF_DPI / 72
                if width * height * scale * scale > MAX_PAGE_PIXELS:
                    scale = math.sqrt(MAX_PAGE_PIXELS / max(width * height, 1.0))
                rendered = page.render(scale=scale).to_pil().convert("RGB")
                pages.append(Image.frombytes("RGB", rendered.size, rendered.tobytes()))
            finally:
                page.close()
    finally:
        doc.close()
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=float(PDF_DPI))
    return out.getvalue()


def clean_copy(data: bytes, content_type: str) -> bytes | None:
    """A copy without metadata of a JPEG, PNG or PDF; None for any other type, or for a file that does not open
    cleanly (then no copy is offered: the original stays for those who may see the sender)."""
    try:
        if content_type in ("image/jpeg", "image/png"):
            return _clean_image(data, content_type)
        if content_type == "application/pdf":
            return _clean_pdf(data)
    except Exception:  # noqa: BLE001 - a file the libraries cannot read cleanly gets no copy, never a 500
        return None
    return None


def safe_filename(name: str | None, content_type: str) -> str:
    """The uploader's name without any path, control or odd characters, at most 100 characters, ending with the
    extension of what the content really is."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = re.sub(r"[^\w .()-]", "_", base).strip(" .")
    stem = os.path.splitext(base)[0][:90] or "tep-dinh-kem"
    return stem + EXTENSIONS[content_type]


@dataclass(frozen=True)
class Quota:
    """Who an anonymous upload counts against: keyed daily hashes of the device id and the client address
    (api/ratelimit.py, Tagger), never the address itself."""

    address_tag: str
    device_tag: str | None
    day: date


_COUNT_BYTES = sa.text("""
    INSERT INTO upload_quotas (bucket, day, bytes) VALUES (:bucket, :day, :n)
    ON CONFLICT (bucket, day) DO UPDATE SET bytes = upload_quotas.bytes + EXCLUDED.bytes
    WHERE upload_quotas.bytes + EXCLUDED.bytes <= :limit
    RETURNING bytes
""")


def _buckets(settings: Settings, quota: Quota) -> list[tuple[str, int, Code]]:
    buckets = [(f"a:{quota.address_tag}", settings.upload_bytes_per_address_day, Code.upload_quota_address)]
    if quota.device_tag:
        buckets.append((f"d:{quota.device_tag}", settings.upload_bytes_per_device_day, Code.upload_quota_device))
    buckets.append(("all", settings.upload_bytes_total_day, Code.upload_quota_total))
    return buckets


def _over(code: Code, limit: int) -> DomainError:
    return DomainError(code, details={"max_bytes_per_day": limit}, headers={"Retry-After": "3600"})


async def _check_case(session: AsyncSession, settings: Settings, case: Case, size: int, uploaded_by: str) -> None:
    """The room the uploader's side has left on the case: files (MAX_FILES) and bytes (the citizen's
    UPLOAD_BYTES_PER_CASE, the officers' OFFICER_UPLOAD_BYTES_PER_CASE), each side counted apart."""
    count, used = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
                Attachment.case_id == case.id, Attachment.uploaded_by == uploaded_by
            )
        )
    ).one()
    max_files = MAX_FILES[uploaded_by]
    if int(count) >= max_files:
        raise DomainError(Code.attachment_count_limit, details={"max_files": max_files})
    limit = settings.upload_bytes_per_case if uploaded_by == "citizen" else settings.officer_upload_bytes_per_case
    if int(used) + size > limit:
        raise DomainError(Code.upload_quota_case, details={"max_bytes": limit})


async def _check_quota(session: AsyncSession, settings: Settings, size: int, quota: Quota) -> None:
    """Refuse early (before any work) an upload the day's quotas have no room for: the day's bytes of its
    address, its device and everyone. Days before yesterday are forgotten here."""
    await session.execute(sa.text("DELETE FROM upload_quotas WHERE day < :d"), {"d": quota.day - timedelta(days=1)})
    buckets = _buckets(settings, quota)
    rows = await session.execute(
        sa.text("SELECT bucket, bytes FROM upload_quotas WHERE day = :d AND bucket = ANY(:b)"),
        {"d": quota.day, "b": [b for b, _, _ in buckets]},
    )
    counted: dict[str, int] = {str(b): int(n) for b, n in rows.tuples().all()}
    for bucket, limit, code in buckets:
        if counted.get(bucket, 0) + size > limit:
            raise _over(code, limit)


async def _count_quota(session: AsyncSession, settings: Settings, size: int, quota: Quota) -> None:
    """Checked and counted in one statement per bucket, last thing before the upload commits (the rows stay
    locked only for that moment; a refused or failed upload counts nothing)."""
    for bucket, limit, code in _buckets(settings, quota):
        counted = None
        if size <= limit:
            counted = await session.scalar(
                _COUNT_BYTES, {"bucket": bucket, "day": quota.day, "n": size, "limit": limit}
            )
        if counted is None:
            raise _over(code, limit)


async def add(
    session: AsyncSession,
    storage: SealedStorage,
    case: Case,
    filename: str | None,
    data: bytes,
    *,
    uploaded_by: str,
    actor_id: int | None,
    settings: Settings,
    quota: Quota | None = None,
) -> AttachmentOut:
    max_bytes = settings.attachment_max_bytes
    if len(data) > max_bytes:
        raise DomainError(Code.attachment_too_large, details={"max_bytes": max_bytes})
    content_type = sniff(data)
    if content_type is None:
        raise DomainError(Code.attachment_type_refused, details={"allowed": sorted(EXTENSIONS)})
    await _check_case(session, settings, case, len(data), uploaded_by)
    if quota is not None:
        await _check_quota(session, settings, len(data), quota)
    digest = hashlib.sha256(data).hexdigest()
    name = safe_filename(filename, content_type)
    copy = await asyncio.to_thread(clean_copy, data, content_type)
    key, copy_key = new_key(), new_key() if copy is not None else None
    copy_digest = hashlib.sha256(copy).hexdigest() if copy is not None else None
    written: list[str] = []
    assert case.id is not None
    try:
        await storage.put(key, data)
        written.append(key)
        if copy is not None and copy_key is not None:
            await storage.put(copy_key, copy)
            written.append(copy_key)
        row = Attachment(
            case_id=case.id,
            sealed=storage.seal({"filename": name, "sha256": digest, "copy_sha256": copy_digest}),
            content_type=content_type,
            size=len(data),
            storage_key=key,
            copy_key=copy_key,
            copy_size=len(copy) if copy is not None else None,
            uploaded_by=uploaded_by,
        )
        session.add(row)
        await session.flush()
        if quota is not None:
            await _count_quota(session, settings, len(data), quota)
        audit.record(
            session,
            actor_id=actor_id,
            entity="attachment",
            entity_id=row.id,
            action="upload",
            payload={"case_id": case.id, "size": len(data), "by": uploaded_by, "copy": copy is not None},
        )
        await session.commit()
    except BaseException:
        for written_key in written:  # nothing half written: no file without its row
            await storage.delete(written_key)
        raise
    return out(row, storage, original=True)


async def ensure_officer_may_upload(session: AsyncSession, principal: Officer, case: Case) -> None:
    """Who may add files to a case they read, each refusal with its own reason: the desk or the head of the unit
    holding it, or a handler assigned to it (the verifier adds the evidence they gather — on a denunciation too,
    where they still never see the denouncer: the upload answers only their own file); never once the case is
    over (`workflows.cases.TERMINAL`). On a case whose sender is protected, an officer of the holding unit who
    may not see the sender adds nothing unless assigned (as before). Size, type, count: `add`."""
    assigned = principal.has(Role.handler) and bool(
        await session.scalar(
            sa.select(sa.exists().where(CaseAssignment.case_id == case.id, CaseAssignment.user_id == principal.id))
        )
    )
    if not assigned and not access.acting_roles(principal, case):
        raise DomainError(Code.attachment_not_assigned)
    if protected(case) and not assigned and not access.sees_identity(principal, case):
        raise DomainError(Code.attachment_protected_case)
    if case.status in TERMINAL:
        raise DomainError(Code.attachment_case_closed, details={"status": case.status})


def protected(case: Case) -> bool:
    """A case whose files may point to a protected sender (a denunciation, or a sender who asked for protection)."""
    return confidentiality.seals_free_text(case.kind, case.identity_protected)


def neutral_name(row: Attachment) -> str:
    return f"tep-dinh-kem-{row.id}{EXTENSIONS.get(row.content_type, '')}"


def out(row: Attachment, storage: SealedStorage, *, original: bool) -> AttachmentOut:
    """The row as its reader may know it: the original's name, size and SHA-256 (`original`), else the
    metadata-stripped copy's, under a neutral name (or no file at all when no copy could be made)."""
    assert row.id is not None
    meta = storage.open(row.sealed)
    if original:
        return AttachmentOut(
            id=row.id,
            filename=meta["filename"],
            content_type=row.content_type,
            size=row.size,
            sha256=meta["sha256"],
            form="original",
            created_at=row.created_at,
        )
    return AttachmentOut(
        id=row.id,
        filename=neutral_name(row),
        content_type=row.content_type,
        size=row.copy_size or 0,
        sha256=meta.get("copy_sha256", row.copy_sha256),  # a row `seal-existing` has not sealed yet: the column
        form="copy" if row.copy_key else "none",
        created_at=row.created_at,
    )


async def rows(session: AsyncSession, case_id: int) -> list[Attachment]:
    found = await session.scalars(sa.select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
    return list(found.all())


async def one(session: AsyncSession, case_id: int, attachment_id: int) -> Attachment:
    row: Attachment | None = await session.scalar(
        sa.select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case_id)
    )
    if row is None:
        raise DomainError(Code.attachment_not_found)
    return row
