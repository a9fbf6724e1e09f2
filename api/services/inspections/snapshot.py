"""The figures under review as they stood when the inspection started: kept (as the audit event `snapshot` of the
inspection, append-only like every audit event), shown in the evaluation instead of the live counts, and compared
with them — a letter back-dated into the period under review while the inspection runs, or a matter settled after
the fact, shows as a change (`changed_since_snapshot`) rather than silently moving a figure. Counts only."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.models.audit import AuditEvent
from api.models.inspections import FigureOut
from api.services import audit

ACTION = "snapshot"


async def latest(session: AsyncSession, inspection_id: int) -> dict[str, Any] | None:
    payload: dict[str, Any] | None = await session.scalar(
        sa.select(AuditEvent.payload)
        .where(
            AuditEvent.entity == "inspection", AuditEvent.entity_id == str(inspection_id), AuditEvent.action == ACTION
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return payload


def record(
    session: AsyncSession, actor_id: int | None, inspection_id: int, figs: list[FigureOut], today: date
) -> dict[str, Any]:
    payload = {"taken_on": today.isoformat(), "values": {f.key: f.value for f in figs}}
    audit.record(
        session, actor_id=actor_id, entity="inspection", entity_id=inspection_id, action=ACTION, payload=payload
    )
    return payload


def apply(live: list[FigureOut], snap: dict[str, Any]) -> tuple[list[FigureOut], list[dict[str, Any]]]:
    """The figures as snapshotted, and every one whose live count differs since."""
    values: dict[str, Any] = snap["values"]
    shown, changes = [], []
    for f in live:
        then = values.get(f.key, f.value)
        if then != f.value:
            changes.append({"key": f.key, "label": f.label, "snapshot": then, "live": f.value})
        shown.append(f.model_copy(update={"value": then}))
    return shown, changes
