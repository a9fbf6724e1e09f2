"""`POST /cases`: desk intake."""

from fastapi import APIRouter, Request, Response, status
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import http_errors, lean
from api.clock import today
from api.deps import (
    Ctx,
    IntakeWriterDep,
    OfficerContext,
    get_hot_connection,
    get_intake_writer,
    get_session,
    officer_context,
)
from api.errors import DomainError
from api.lean import IdempotencyKey, dependency
from api.models.cases.schemas import CaseCreatedOut, CaseIn
from api.services.cases import intake as intake_service
from api.services.cases import remembered
from api.services.cases.writer import SignerChanged, Writer

router = APIRouter(prefix="/cases", tags=["cases"])

_CREATED = TypeAdapter(CaseCreatedOut)


async def lean_create(request: Request) -> Response | None:
    """The common letter (the lean lane: api/lean.py): plain JSON that validates, a bearer token that signs in.
    Anything else, FastAPI serves with its own errors. An officer signed in a moment ago by this process is not
    read again (api/services/cases/remembered.py); if they changed, or the letter is refused on what was
    remembered, the request is served afresh by FastAPI's handler."""
    headers = request.headers
    token = lean.bearer_token(headers.get("authorization"))
    if not token or not lean.plain(headers):
        return None
    try:
        data = CaseIn.model_validate_json(await request.body())
    except ValidationError:
        return None
    session: AsyncSession = await dependency(request, get_session)
    settings = request.app.state.settings
    memory: remembered.Memory = request.app.state.signed_in
    writer: Writer = await dependency(request, get_intake_writer)
    known = remembered.recall(memory, settings, session, token)
    if known is None:
        try:
            ctx = await officer_context(request, session, await dependency(request, get_hot_connection), token)
        except DomainError:
            return None  # an unusable token: FastAPI answers it (401) as for any route
    else:
        ctx = OfficerContext(session=session, officer=known.officer, settings=settings, env=known.env)
        writer = remembered.Signing(writer, known.signer)
    try:
        created = await _intake(ctx, data, writer, headers.get("idempotency-key"))
    except (SignerChanged, DomainError):
        if known is None:
            raise
        # Judged on an officer remembered, not read: forget them and judge the request again on a fresh sign-in
        # (nothing of this attempt was written: intake raises before it writes, and the writer wrote nothing).
        remembered.forget(memory, known.key)
        return None
    return Response(_CREATED.dump_json(created), status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.post(
    "",
    response_model=CaseCreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Tiếp nhận đơn / vụ việc (desk intake)",
    responses=http_errors.responses(403, 422),
    description="The receiving unit is the caller's. `access_key` is for the citizen and is shown here "
    "only. A retry with the same `Idempotency-Key` returns the case made the first time.",
)
async def create(
    data: CaseIn, ctx: Ctx, writer: IntakeWriterDep, idempotency_key: IdempotencyKey = None
) -> CaseCreatedOut:
    return await _intake(ctx, data, writer, idempotency_key)


async def _intake(ctx: OfficerContext, data: CaseIn, writer: Writer, idempotency_key: str | None) -> CaseCreatedOut:
    return await intake_service.create(
        ctx.session,
        ctx.officer,
        ctx.settings,
        data,
        today=today(),
        env=ctx.env,
        options=intake_service.Options(idempotency_key=idempotency_key, writer=writer),
    )
