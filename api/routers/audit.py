"""The administrative audit log (units, officers, calendar, webhooks, failed sign-ins): admins read it."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminOfficer, SessionDep
from api.models.audit import AuditEventOut
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services import audit as audit_service
from api.types import CleanStr

router = APIRouter(prefix="/audit-events", tags=["audit"])


@router.get("", response_model=Page[AuditEventOut], summary="Nhật ký thay đổi quản trị (mới nhất trước)")
async def list_events(
    session: SessionDep,
    _: AdminOfficer,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    entity: Annotated[CleanStr | None, Query(max_length=32)] = None,
    entity_id: Annotated[CleanStr | None, Query(max_length=64)] = None,
) -> Page[AuditEventOut]:
    rows, next_cursor = await audit_service.list_events(
        session, limit=limit, cursor=cursor, entity=entity, entity_id=entity_id
    )
    return Page(items=[AuditEventOut.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor)
