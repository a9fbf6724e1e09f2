"""Writing the administrative audit log (the caller commits, in the same transaction as the change)."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import request_id_var
from api.models.audit import AuditEvent
from api.pagination import by_id


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    entity: str,
    entity_id: object,
    action: str,
    payload: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor_id,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            payload=payload or {},
            request_id=request_id_var.get(),
        )
    )


async def list_events(
    session: AsyncSession, *, limit: int, cursor: str | None, entity: str | None, entity_id: str | None
) -> tuple[list[AuditEvent], str | None]:
    stmt = sa.select(AuditEvent)
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    return await by_id(AuditEvent.id, descending=True).fetch(session, stmt, limit=limit, cursor=cursor)
