"""`/public`: the citizen and mobile channel, without an officer account. Every route is rate-limited per client
address and per device id, each counted by a keyed hash that changes daily (api/ratelimit.py): no address is
kept with a submission, a look-up, a rating or an upload. A citizen reaches only their own case, by tracking code
and access key."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Request, Response, UploadFile, status
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock, http_errors
from api.deps import IntakeWriterDep, SessionDep, get_hot_connection, get_intake_writer, get_session, release_hot
from api.errors import Code, DomainError
from api.lean import DeviceId, IdempotencyKey, dependency, device_id_valid, plain
from api.models.cases import Case
from api.models.cases.schemas import Channel
from api.models.public import AttachmentOut, RatingIn, SubmissionCreatedOut, SubmissionIn, SubmissionStatusOut
from api.ratelimit import Tagger, client_address
from api.routers.attachments import read_upload
from api.services import calendar as calendar_service
from api.services.cases.writer import IntakeWriter
from api.services.citizen import attachments, submissions
from api.services.citizen import status as citizen_status
from api.vault import vault_for

router = APIRouter(prefix="/public", tags=["public"])

AccessKey = Annotated[str | None, Header(alias="X-Access-Key", max_length=64)]
CODE = r"^[A-Z0-9-]{4,24}$"


class Client:
    """Who is calling, for the limits: the client address (behind a trusted proxy, from X-Forwarded-For) and, when
    the app sends one, its device id — kept in memory for this request only; the limits, the quotas and the
    Idempotency-Key's scope see keyed hashes of them."""

    def __init__(self, address: str, device: str | None, tagger: Tagger) -> None:
        self.address, self.device = address, device
        self.day = clock.today()
        self.address_tag = tagger.tag("ip", address, self.day)
        self.device_tag = tagger.tag("dev", device, self.day) if device else None

    @property
    def keys(self) -> tuple[str, ...]:
        return (f"a:{self.address_tag}",) + ((f"d:{self.device_tag}",) if self.device_tag else ())

    @property
    def scope(self) -> str:
        """What an Idempotency-Key is bound to (hashed again under a key of its own before it is stored)."""
        return f"dev:{self.device}" if self.device else f"ip:{self.address}"

    def quota(self) -> attachments.Quota:
        return attachments.Quota(address_tag=self.address_tag, device_tag=self.device_tag, day=self.day)


async def client(request: Request, device_id: DeviceId = None) -> Client:
    if not device_id_valid(device_id):
        raise DomainError(Code.validation_error, details={"field": "X-Device-Id"})
    c = Client(client_address(request), device_id, request.app.state.tagger)
    await request.app.state.public_limits.hit(*c.keys)
    return c


ClientDep = Annotated[Client, Depends(client)]


async def lean_submit(request: Request) -> Response | None:
    """The common submission (the lean lane: api/lean.py): plain JSON that validates, sane headers. Anything
    else, FastAPI serves with its own errors."""
    headers = request.headers
    device, key = headers.get("x-device-id"), headers.get("idempotency-key")
    if not plain(headers) or not device_id_valid(device):  # the header rules of both lanes (api/lean.py)
        return None
    try:
        data = SubmissionIn.model_validate_json(await request.body())
    except ValidationError:
        return None
    who = await client(request, device)
    session = await dependency(request, get_session)
    landing = None
    if data.location.commune_code:  # routed by one read on a hot connection, given back at once
        hot = await dependency(request, get_hot_connection)
        try:
            landing = await submissions.route(session, data, hot)
        finally:
            await release_hot(request, hot)
    writer = await dependency(request, get_intake_writer)
    created = await _submit(request, data, session, who, writer, key, landing)
    return Response(
        _CREATED.dump_json(created),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


_CREATED = TypeAdapter(SubmissionCreatedOut)


async def _submit(
    request: Request,
    data: SubmissionIn,
    session: AsyncSession,
    who: Client,
    writer: IntakeWriter,
    idempotency_key: str | None,
    landing: submissions.Landing | None = None,
) -> SubmissionCreatedOut:
    outcome = await submissions.submit(
        session,
        request.app.state.settings,
        data,
        channel=Channel.mobile if who.device else Channel.online,
        scope=who.scope,
        idempotency_key=idempotency_key,
        today=clock.today(),
        writer=writer,
        landing=landing,
    )
    return outcome.created


@router.post(
    "/submissions",
    response_model=SubmissionCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Gửi khiếu nại, tố cáo, kiến nghị, phản ánh (ứng dụng, cổng trực tuyến)",
    description="A retry with the same `Idempotency-Key` (from the same device) returns the first response; the "
    "same key with another body is 422; keys are honoured for IDEMPOTENCY_HOURS (24). The `access_key` is shown "
    "once. Identity is required for complaints and denunciations; consent to the processing of personal data "
    "whenever contact data is given.",
    responses=http_errors.responses(422, 429),
)
async def submit(
    data: SubmissionIn,
    request: Request,
    response: Response,
    session: SessionDep,
    who: ClientDep,
    writer: IntakeWriterDep,
    idempotency_key: IdempotencyKey = None,
) -> SubmissionCreatedOut:
    created = await _submit(request, data, session, who, writer, idempotency_key)
    response.headers["Cache-Control"] = "no-store"
    return created


async def _own_case(request: Request, session: SessionDep, who: Client, code: str, key: str | None) -> Case:
    """The caller's case; the look-up is counted before it is tried (one step, api/ratelimit.py) and given back
    when it finds the case, so only failures stay counted, per hashed address and per hashed device."""
    limits = request.app.state.public_limits
    reserved = await limits.reserve_lookup(who.keys)
    case = await citizen_status.find(session, code, key)
    await limits.lookup_found(reserved)
    return case


@router.get(
    "/submissions/{tracking_code}",
    response_model=SubmissionStatusOut,
    summary="Tra cứu tình trạng hồ sơ bằng mã tra cứu và khóa truy cập",
    description="Header `X-Access-Key`. Status, the public steps in Vietnamese, the due date and, once settled, "
    "the outcome — never internal notes, officers or other parties. Wrong codes and keys are counted per "
    "address (429 after LOOKUP_FAILURES_PER_HOUR).",
    responses=http_errors.responses(404, 429),
)
async def get_status(
    tracking_code: str,
    request: Request,
    response: Response,
    session: SessionDep,
    who: ClientDep,
    x_access_key: AccessKey = None,
) -> SubmissionStatusOut:
    if not re.match(CODE, tracking_code):
        raise DomainError(Code.submission_not_found)
    case = await _own_case(request, session, who, tracking_code, x_access_key)
    env = await calendar_service.env(session, request.app.state.settings)
    response.headers["Cache-Control"] = "no-store"
    return await citizen_status.status(session, case, env)


@router.post(
    "/submissions/{tracking_code}/rating",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Đánh giá mức độ hài lòng (1–5) sau khi vụ việc được giải quyết",
    responses=http_errors.responses(404, 409, 422, 429),
)
async def rate(
    tracking_code: str,
    data: RatingIn,
    request: Request,
    session: SessionDep,
    who: ClientDep,
    x_access_key: AccessKey = None,
) -> Response:
    if not re.match(CODE, tracking_code):
        raise DomainError(Code.submission_not_found)
    case = await _own_case(request, session, who, tracking_code, x_access_key)
    vault = vault_for(request.app.state.settings)
    await citizen_status.rate(session, case, data.score, data.comment, clock.today(), vault=vault)
    return Response(status_code=204)


@router.post(
    "/submissions/{tracking_code}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Gửi kèm ảnh, PDF hoặc ghi âm cho hồ sơ của mình",
    description="Multipart field `file`; the type is read from the content (JPEG, PNG, PDF, MP3, M4A, OGG, WAV), "
    "at most ATTACHMENT_MAX_BYTES (10 MB). Header `X-Access-Key`. Quotas: UPLOAD_BYTES_PER_CASE (413 "
    "upload_quota_case), and a day UPLOAD_BYTES_PER_DEVICE_DAY, UPLOAD_BYTES_PER_ADDRESS_DAY and "
    "UPLOAD_BYTES_TOTAL_DAY (429 upload_quota_device / _address / _total).",
    responses=http_errors.responses(404, 413, 415, 422, 429),
)
async def attach(
    tracking_code: str,
    request: Request,
    session: SessionDep,
    who: ClientDep,
    file: Annotated[UploadFile, File()],
    x_access_key: AccessKey = None,
) -> AttachmentOut:
    if not re.match(CODE, tracking_code):
        raise DomainError(Code.submission_not_found)
    case = await _own_case(request, session, who, tracking_code, x_access_key)
    data = await read_upload(request, file)
    return await attachments.add(
        session,
        request.app.state.storage,
        case,
        file.filename,
        data,
        uploaded_by="citizen",
        actor_id=None,
        settings=request.app.state.settings,
        quota=who.quota(),
    )
