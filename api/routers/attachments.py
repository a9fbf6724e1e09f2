"""Attachments of a case, for officers: list, upload, download (`/cases/{id}/attachments`). A denunciation's
originals (handwriting, photos, with their names and SHA-256) go only to those who may see the denouncer; the
other readers of the case get the copy stripped of metadata, under a neutral name, or nothing where no copy
could be made. Reading an original of such a case (its name and SHA-256 in the list, its bytes in a download) is
a read of protected data: an `identity_viewed` event of the case's chain, committed together with the read — the
answer is built first, the event written last, and if it cannot be written nothing is returned."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Request, Response, UploadFile, status

from api import http_errors
from api.auth import Officer
from api.deps import CurrentOfficer, ReadableCase, SessionDep
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.public import AttachmentOut
from api.services import audit
from api.services.cases import access
from api.services.cases import queries as query_service
from api.services.citizen import attachments as service
from api.types import Id64

router = APIRouter(prefix="/cases", tags=["cases"])


def sees_originals(principal: Officer, case: Case) -> bool:
    return not service.protected(case) or access.sees_identity(principal, case)


async def read_upload(request: Request, file: UploadFile) -> bytes:
    limit = request.app.state.settings.attachment_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise DomainError(Code.attachment_too_large, details={"max_bytes": limit})
    return data


@router.get(
    "/{case_id}/attachments",
    response_model=list[AttachmentOut],
    summary="Tệp đính kèm của hồ sơ",
    responses=http_errors.responses(404),
)
async def list_attachments(
    request: Request, case: ReadableCase, session: SessionDep, principal: CurrentOfficer
) -> list[AttachmentOut]:
    assert case.id is not None
    storage = request.app.state.storage
    rows = await service.rows(session, case.id)
    if not service.protected(case):
        return [service.out(r, storage, original=True) for r in rows]
    # The originals' names and SHA-256 for those who may see the sender, recorded with the read (open_sealed).
    return await query_service.open_sealed(
        session,
        principal,
        case,
        {"attachment_ids": [r.id for r in rows if r.id is not None]},
        lambda reveal: [service.out(r, storage, original=reveal) for r in rows],
    )


@router.post(
    "/{case_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Thêm tệp đính kèm (ảnh, PDF, âm thanh)",
    description="For the desk or the head of the unit holding the case, and for a handler assigned to it (on a "
    "denunciation too: the verifier adds evidence, and still never sees the denouncer). A refusal names why: "
    "`attachment_not_assigned`, `attachment_protected_case` (403), `attachment_case_closed`, "
    "`attachment_count_limit` (409: the officers' files of the case, counted apart from the citizen's), "
    "`upload_quota_case` (413: the officers' bytes of the case, OFFICER_UPLOAD_BYTES_PER_CASE), "
    "`attachment_too_large` (413), `attachment_type_refused` (415).",
    responses=http_errors.responses(403, 404, 409, 413, 415),
)
async def upload(
    request: Request,
    case: ReadableCase,
    session: SessionDep,
    principal: CurrentOfficer,
    file: Annotated[UploadFile, File(description="JPEG, PNG, PDF, MP3, M4A, OGG or WAV")],
) -> AttachmentOut:
    await service.ensure_officer_may_upload(session, principal, case)
    data = await read_upload(request, file)
    return await service.add(
        session,
        request.app.state.storage,
        case,
        file.filename,
        data,
        uploaded_by="officer",
        actor_id=principal.id,
        settings=request.app.state.settings,
    )


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    summary="Tải tệp đính kèm",
    description="The original (header X-Content-SHA256: its SHA-256) for those who may see the sender; on a "
    "denunciation, for the other readers of the case, the copy stripped of metadata (header X-Attachment-Form: "
    "copy), or 403 attachment_original_only where no copy could be made.",
    responses={200: {"content": {"application/octet-stream": {}}}, **http_errors.responses(403, 404)},
)
async def download(
    attachment_id: Id64, request: Request, case: ReadableCase, session: SessionDep, principal: CurrentOfficer
) -> Response:
    assert case.id is not None
    row = await service.one(session, case.id, attachment_id)
    storage = request.app.state.storage
    original = sees_originals(principal, case)
    shown = service.out(row, storage, original=original)
    if original:
        data = await storage.get(row.storage_key)
    elif row.copy_key is not None:
        data = await storage.get(row.copy_key)
    else:
        raise DomainError(Code.attachment_original_only)
    ascii_name = shown.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    answer = Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(shown.filename)}",
            "X-Content-SHA256": shown.sha256 or "",
            "X-Attachment-Form": shown.form,
        },
    )
    audit.record(
        session,
        actor_id=principal.id,
        entity="attachment",
        entity_id=row.id,
        action="download",
        payload={"form": shown.form},
    )
    if original and service.protected(case):
        # A protected sender's original (bytes, name, SHA-256): the answer is built, then the identity read is
        # chained and committed with the audit row; if that fails, nothing is returned.
        assert row.id is not None
        return await query_service.open_sealed(
            session, principal, case, {"attachment_file_ids": [row.id]}, lambda _reveal: answer
        )
    await session.commit()
    return answer
