"""`POST /cases`: desk intake."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api import errors
from api.clock import today
from api.deps import (
    Ctx,
    IntakeWriterDep,
    OfficerContext,
    forget,
    get_hot_connection,
    get_intake_writer,
    get_session,
    officer_context,
    remembered,
)
from api.errors import DomainError
from api.lean import dependency
from api.models.cases.schemas import IDEMPOTENCY_KEY_MAX, CaseCreate, CaseCreated
from api.services import calendar as calendar_service
from api.services.cases import intake as intake_service
from api.services.cases.writer import IntakeWriter, SignerChanged

router = APIRouter(prefix="/cases", tags=["cases"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX)]
_CREATED = TypeAdapter(CaseCreated)


async def lean_create(request: Request) -> Response | None:
    """The common letter (the lean lane: api/lean.py): plain JSON that validates, a bearer token that signs in.
    Anything else, FastAPI serves with its own errors. An officer signed in a moment ago by this process is not
    read again: the letter's statement checks that they still are who they were (api/deps.py, `SignedIn`); if not,
    or if the letter is refused on what was remembered, the request is served afresh by FastAPI's handler."""
    headers = request.headers
    if headers.get("content-type") != "application/json":
        return None
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token, key = token.strip(), headers.get("idempotency-key")
    if scheme.lower() != "bearer" or not token or (key is not None and len(key) > IDEMPOTENCY_KEY_MAX):
        return None
    try:
        data = CaseCreate.model_validate_json(await request.body())
    except ValidationError:
        return None
    session: AsyncSession = await dependency(request, get_session)
    settings = request.app.state.settings
    known = remembered(request, token)
    # The calendar of the remembered version, if this process still holds it (else: sign in afresh).
    env = calendar_service.cached_env(session, settings, known[1].calendar_version) if known is not None else None
    if known is None or env is None:
        known = None
        try:
            ctx = await officer_context(request, session, await dependency(request, get_hot_connection), token)
        except DomainError:
            return None  # an unusable token: FastAPI answers it (401) as for any route
        signer = None
    else:
        ctx = OfficerContext(session=session, officer=known[1].officer, settings=settings, env=env)
        signer = (known[1].fingerprint, known[1].calendar_version)
    writer = await dependency(request, get_intake_writer)
    try:
        created = await _intake(ctx, data, writer, key, signer)
    except (SignerChanged, DomainError):
        if known is None:
            raise
        # Judged on an officer remembered, not read: forget them and judge the request again on a fresh sign-in
        # (nothing of this attempt was written: intake raises before it writes, and the writer wrote nothing).
        forget(request, known[0])
        return None
    return Response(_CREATED.dump_json(created), status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.post(
    "",
    response_model=CaseCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Tiếp nhận đơn / vụ việc (desk intake)",
    responses=errors.responses(403, 422),
    description="The receiving unit is the caller's. `access_key` is for the citizen and is shown here "
    "only. A retry with the same `Idempotency-Key` returns the case made the first time.",
)
async def create(
    data: CaseCreate, ctx: Ctx, writer: IntakeWriterDep, idempotency_key: IdempotencyKey = None
) -> CaseCreated:
    return await _intake(ctx, data, writer, idempotency_key)


async def _intake(
    ctx: OfficerContext,
    data: CaseCreate,
    writer: IntakeWriter,
    idempotency_key: str | None,
    remembered: tuple[str, int] | None = None,
) -> CaseCreated:
    return await intake_service.create(
        ctx.session,
        ctx.officer,
        ctx.settings,
        data,
        today=today(),
        env=ctx.env,
        idempotency_key=idempotency_key,
        writer=writer,
        remembered=remembered,
    )
