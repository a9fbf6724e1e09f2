"""`POST /cases`: desk intake."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import TypeAdapter, ValidationError

from api import errors
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
from api.lean import LeanRoute, dependency, lean
from api.models.cases.schemas import CaseCreate, CaseCreated
from api.services.cases import intake as intake_service

router = APIRouter(prefix="/cases", tags=["cases"], route_class=LeanRoute)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]
_CREATED = TypeAdapter(CaseCreated)


async def _lean_create(request: Request) -> Response | None:
    """The common letter (see api/lean.py): plain JSON that validates, a bearer token that signs in. Anything
    else, FastAPI serves with its own errors."""
    headers = request.headers
    if headers.get("content-type") != "application/json":
        return None
    scheme, _, token = headers.get("authorization", "").partition(" ")
    key = headers.get("idempotency-key")
    if scheme.lower() != "bearer" or not token.strip() or (key is not None and len(key) > 64):
        return None
    try:
        data = CaseCreate.model_validate_json(await request.body())
    except ValidationError:
        return None
    session = await dependency(request, get_session)
    hot = await dependency(request, get_hot_connection)
    try:
        ctx: OfficerContext = await officer_context(request, session, hot, token.strip())
    except DomainError:
        return None  # an unusable token: FastAPI answers it (401) as for any route
    writer = await dependency(request, get_intake_writer)
    created = await create(data, ctx, writer, key)
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
@lean(_lean_create)
async def create(
    data: CaseCreate, ctx: Ctx, writer: IntakeWriterDep, idempotency_key: IdempotencyKey = None
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
    )
