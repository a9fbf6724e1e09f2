"""Signed checkpoints of the event chains (api/services/checkpoints.py): the inspectorate and admins read them."""

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api import http_errors
from api.auth import Officer
from api.deps import SessionDep, require_roles
from api.models.cases import ChainCheckpoint
from api.pagination import Keyset, Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import audit, checkpoints
from workflows.cases import Role

router = APIRouter(prefix="/integrity", tags=["integrity"])

Overseer = Annotated[Officer, Depends(require_roles(Role.admin, Role.inspector))]
Admin = Annotated[Officer, Depends(require_roles(Role.admin))]


class CheckpointOut(BaseModel):
    id: int
    seq: int  # 1, 2, … in the order made; each signs the signature of the one before (prev_signature)
    prev_signature: str | None
    at: datetime
    cases: int
    events: int
    digest: str
    signature: str


_NEWEST: Keyset[ChainCheckpoint] = Keyset(
    columns=(ChainCheckpoint.id,), kinds=(int,), key=lambda c: [c.id], descending=True
)


@router.get("/checkpoints", response_model=Page[CheckpointOut], summary="Các mốc ký số của chuỗi nhật ký")
async def list_checkpoints(
    session: SessionDep, _: Overseer, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[CheckpointOut]:
    rows, next_cursor = await _NEWEST.fetch(session, sa.select(ChainCheckpoint), limit=limit, cursor=cursor)
    return Page(items=[CheckpointOut.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)


@router.post(
    "/checkpoints",
    response_model=CheckpointOut,
    status_code=201,
    summary="Ký một mốc mới của mọi chuỗi nhật ký (ngoài lịch hằng ngày)",
    responses=http_errors.responses(403),
)
async def make_checkpoint(session: SessionDep, officer: Admin) -> CheckpointOut:
    made = await checkpoints.make(session)
    audit.record(session, actor_id=officer.id, entity="chain_checkpoint", entity_id=made.id, action="create")
    await session.commit()
    return CheckpointOut.model_validate(made, from_attributes=True)
