"""The administrative audit log (units, officers, calendar, webhooks, failed sign-ins): admins read it."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminPrincipal, SessionDep
from api.models.audit import AuditEventPublic
from api.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from api.services import audit as audit_service

router = APIRouter(prefix="/audit-events", tags=["audit"])


@router.get("", response_model=Page[AuditEventPublic], summary="Nhật ký thay đổi quản trị (mới nhất trước)")
async def list_events(session: SessionDep, _: AdminPrincipal, limit: LimitQuery = 50, cursor: CursorQuery = None,
                      entity: Annotated[str | None, Query(max_length=32)] = None,
                      entity_id: Annotated[str | None, Query(max_length=64)] = None) -> Page[AuditEventPublic]:
    after = decode_cursor(cursor, int)
    rows = await audit_service.list_events(session, limit=limit, before_id=after[0] if after else None,
                                           entity=entity, entity_id=entity_id)
    items = [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows[:limit]]
    return Page(items=items, next_cursor=encode_cursor([items[-1].id]) if len(rows) > limit else None)
