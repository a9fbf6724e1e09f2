"""Writing the administrative audit log (the caller commits, in the same transaction as the change)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.logs import request_id_var
from api.models.audit import AuditEvent


def record(session: AsyncSession, *, actor_id: int | None, entity: str, entity_id: object, action: str,
           payload: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(actor_id=actor_id, entity=entity, entity_id=str(entity_id), action=action,
                           payload=payload or {}, request_id=request_id_var.get()))
