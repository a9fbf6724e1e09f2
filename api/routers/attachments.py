"""Attachments of a case, for officers: list, upload, download (`/cases/{id}/attachments`). A denunciation's
files (handwriting, photos) go only to those who may see the denouncer."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Request, Response, UploadFile, status

from api import errors
from api.auth import Officer
from api.deps import CurrentOfficer, ReadableCase, SessionDep
from api.errors import Code, DomainError
from api.models.cases import Case
from api.models.public import AttachmentOut
from api.services import attachments as service
from api.services import audit
from api.services.cases import access
from api.types import Id64
from workflows.cases import Role

router = APIRouter(prefix="/cases", tags=["cases"])


def _may_open(principal: Officer, case: Case) -> None:
    if case.kind == "denunciation" and not access.sees_identity(principal, case):
        raise DomainError(Code.attachment_not_found)


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
    responses=errors.responses(404),
)
async def list_attachments(case: ReadableCase, session: SessionDep, principal: CurrentOfficer) -> list[AttachmentOut]:
    _may_open(principal, case)
    assert case.id is not None
    return await service.listed(session, case.id)


@router.post(
    "/{case_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Thêm tệp đính kèm (ảnh, PDF, âm thanh)",
    responses=errors.responses(403, 404, 413, 415, 422),
)
async def upload(
    request: Request,
    case: ReadableCase,
    session: SessionDep,
    principal: CurrentOfficer,
    file: Annotated[UploadFile, File(description="JPEG, PNG, PDF, MP3, M4A, OGG or WAV")],
) -> AttachmentOut:
    if not access.acting_roles(principal, case) and not principal.has(Role.handler):
        raise DomainError(Code.not_your_unit)
    _may_open(principal, case)
    data = await read_upload(request, file)
    return await service.add(
        session,
        request.app.state.storage,
        case,
        file.filename,
        data,
        uploaded_by="officer",
        actor_id=principal.id,
        max_bytes=request.app.state.settings.attachment_max_bytes,
    )


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    summary="Tải tệp đính kèm",
    responses={200: {"content": {"application/octet-stream": {}}}, **errors.responses(404)},
)
async def download(
    attachment_id: Id64, request: Request, case: ReadableCase, session: SessionDep, principal: CurrentOfficer
) -> Response:
    _may_open(principal, case)
    assert case.id is not None
    row = await service.one(session, case.id, attachment_id)
    data = await request.app.state.storage.get(row.storage_key)
    ascii_name = row.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")

    audit.record(session, actor_id=principal.id, entity="attachment", entity_id=row.id, action="download")
    await session.commit()
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-SHA256": row.sha256,
        },
    )
