"""`POST /cases`: desk intake."""

from typing import Annotated

from fastapi import APIRouter, Header, status

from api import errors
from api.clock import today
from api.deps import Ctx, OwnHotDep
from api.models.cases.schemas import CaseCreate, CaseCreated
from api.services.cases import intake as intake_service

router = APIRouter(prefix="/cases", tags=["cases"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


@router.post(
    "",
    response_model=CaseCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Tiếp nhận đơn / vụ việc (desk intake)",
    responses=errors.responses(403, 422),
    description="The receiving unit is the caller's. `access_key` is for the citizen and is shown here "
    "only. A retry with the same `Idempotency-Key` returns the case made the first time.",
)
async def create(data: CaseCreate, ctx: Ctx, hot: OwnHotDep, idempotency_key: IdempotencyKey = None) -> CaseCreated:
    return await intake_service.create(
        ctx.session,
        ctx.officer,
        ctx.settings,
        data,
        today=today(),
        env=ctx.env,
        idempotency_key=idempotency_key,
        hot=hot,
    )
