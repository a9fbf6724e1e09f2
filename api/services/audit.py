"""Writing the administrative audit log (the caller commits, in the same transaction as the change)."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.logs import request_id_var
from api.models.audit import AuditEvent


def record(session: AsyncSession, *, actor_id: int | None, entity: str, entity_id: object, action: str,
           payload: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(actor_id=actor_id, entity=entity, entity_id=str(entity_id), action=action,
                           payload=payload or {}, request_id=request_id_var.get()))


async def list_events(session: AsyncSession, *, limit: int, before_id: int | None, entity: str | None,
                      entity_id: str | None) -> Sequence[AuditEvent]:
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    return (await session.scalars(stmt)).all()
