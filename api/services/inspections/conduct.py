"""Inspections (cuộc kiểm tra) of one unit: made from a line of an approved plan (or outside the plan, for a
unit and period named), the decision forming the team (number, date) with its members — inspectors with accounts,
invited members named without one (e.g. Ban Dân vận Tỉnh ủy, as plan 13/KH-UBND asks) — the start, and the
course planned → decided → in progress → concluded, or cancelled with a reason (workflows/inspections.py)."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.inspections import (
    CancelIn,
    DecideIn,
    Inspection,
    InspectionIn,
    InspectionOut,
    InspectionPlan,
    InspectionPlanItem,
    StartIn,
)
from api.models.unit import Unit
from api.models.user import User
from api.pagination import by_id
from api.services import audit
from api.services.inspections import access
from api.services.inspections.plans import not_in_future, review_ended
from api.services.stats import forms
from workflows import inspections as flow
from workflows.cases import Role


async def create(session: AsyncSession, officer: Officer, data: InspectionIn, *, today: date) -> Inspection:
    await access.require_inspector(session, officer)
    if data.plan_item_id is not None:
        found = (
            await session.execute(
                sa.select(InspectionPlanItem, InspectionPlan)
                .join(InspectionPlan, InspectionPlan.id == InspectionPlanItem.plan_id)
                .where(InspectionPlanItem.id == data.plan_item_id, InspectionPlanItem.removed_by_amendment_id.is_(None))
            )
        ).first()
        if found is None:
            raise DomainError(Code.plan_item_not_found, details={"field": "plan_item_id"})
        item, plan = found
        if plan.status != flow.PlanStatus.approved:
            raise DomainError(Code.plan_not_approved)
        taken = await session.scalar(sa.select(Inspection.id).where(Inspection.plan_item_id == item.id))
        if taken is not None:
            raise DomainError(Code.inspection_exists, details={"inspection_id": taken})
        unit_id, label, start, end, year = (
            item.unit_id,
            item.review_period,
            item.review_start,
            item.review_end,
            plan.year,
        )
    else:
        if data.unit_id is None or data.review_period is None:
            raise DomainError(Code.missing_field, details={"fields": ["plan_item_id", "or unit_id and review_period"]})
        if await session.scalar(sa.select(Unit.id).where(Unit.id == data.unit_id, Unit.is_active)) is None:
            raise DomainError(Code.no_such_unit, details={"field": "unit_id"})
        period = forms.parse_period(data.review_period, None, None)
        review_ended(period.end, today)
        unit_id, label, start, end, year = data.unit_id, period.label, period.start, period.end, today.year
    inspection = Inspection(
        plan_item_id=data.plan_item_id,
        unit_id=unit_id,
        year=year,
        status=flow.InspectionStatus.planned.value,
        review_period=label,
        review_start=start,
        review_end=end,
        created_by_id=officer.id,
    )
    session.add(inspection)
    try:
        await session.flush()
    except sa.exc.IntegrityError:  # a parallel request made it first
        await session.rollback()
        raise DomainError(Code.inspection_exists) from None
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection",
        entity_id=inspection.id,
        action="create",
        payload={"unit_id": unit_id, "plan_item_id": data.plan_item_id, "review_period": label},
    )
    await session.commit()
    return inspection


async def load(session: AsyncSession, officer: Officer, inspection_id: int, *, lock: bool = False) -> Inspection:
    """The inspection if the caller may read it (the inspectorate, or the inspected unit's head); 404 otherwise."""
    visible = await access.unit_filter(session, officer, Inspection.unit_id)
    stmt = sa.select(Inspection).where(Inspection.id == inspection_id, visible)
    found = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise DomainError(Code.inspection_not_found)
    return found


def move(inspection: Inspection, action: flow.InspectionAction, who: frozenset[flow.Actor]) -> str:
    """The status `action` leads to (409 with the allowed actions if none); the caller sets it once every other
    check has passed, so a refused request leaves the row as it was."""
    try:
        return flow.next_status(flow.InspectionStatus(inspection.status), action, who).value
    except flow.TransitionRefused as exc:
        raise DomainError(
            Code.inspection_action_not_allowed, details={"status": inspection.status, "allowed": exc.allowed}
        ) from None


async def _members(session: AsyncSession, data: DecideIn) -> list[dict[str, Any]]:
    ids = [m.user_id for m in data.members if m.user_id is not None]
    users = {
        u.id: u
        for u in (await session.scalars(sa.select(User).where(User.id.in_(ids), User.is_active))).all()
        if Role.inspector.value in u.roles
    }
    out = []
    for m in data.members:
        if m.user_id is not None and m.user_id not in users:
            raise DomainError(Code.invalid_member, details={"user_id": m.user_id})
        name = users[m.user_id].full_name if m.user_id is not None else m.full_name
        out.append({"user_id": m.user_id, "full_name": name, "organisation": m.organisation, "role": m.role})
    return out


async def decide(
    session: AsyncSession, officer: Officer, inspection_id: int, data: DecideIn, *, today: date
) -> Inspection:
    who = await access.require_inspectorate(session, officer)
    inspection = await load(session, officer, inspection_id, lock=True)
    status = move(inspection, flow.InspectionAction.decide, who)
    not_in_future(data.decision_date, today, "decision_date")
    if inspection.plan_item_id is not None:  # the team is formed under the approved plan: not before its approval
        approved = await session.scalar(
            sa.select(InspectionPlan.decision_date)
            .join(InspectionPlanItem, InspectionPlanItem.plan_id == InspectionPlan.id)
            .where(InspectionPlanItem.id == inspection.plan_item_id)
        )
        if approved is not None and data.decision_date < approved:
            raise DomainError(
                Code.date_before_previous_step, details={"field": "decision_date", "not_before": approved.isoformat()}
            )
    members = await _members(session, data)
    inspection.status, inspection.members = status, members
    inspection.decision_number, inspection.decision_date = data.decision_number, data.decision_date
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection",
        entity_id=inspection_id,
        action="decide",
        payload={
            "decision_number": data.decision_number,
            "decision_date": data.decision_date.isoformat(),
            "members": len(inspection.members),
        },
    )
    await session.commit()
    return inspection


async def start(
    session: AsyncSession, officer: Officer, inspection_id: int, data: StartIn, *, today: date
) -> Inspection:
    who = await access.require_inspectorate(session, officer)
    inspection = await load(session, officer, inspection_id, lock=True)
    status = move(inspection, flow.InspectionAction.start, who)
    not_in_future(data.start_date, today, "start_date")
    if inspection.decision_date is not None and data.start_date < inspection.decision_date:
        raise DomainError(Code.date_before_previous_step, details={"field": "start_date"})
    inspection.status, inspection.start_date = status, data.start_date
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection",
        entity_id=inspection_id,
        action="start",
        payload={"start_date": data.start_date.isoformat()},
    )
    await session.commit()
    return inspection


async def cancel(session: AsyncSession, officer: Officer, inspection_id: int, data: CancelIn) -> Inspection:
    who = await access.require_inspectorate(session, officer)
    inspection = await load(session, officer, inspection_id, lock=True)
    inspection.status = move(inspection, flow.InspectionAction.cancel, who)
    inspection.cancel_reason = data.reason
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection",
        entity_id=inspection_id,
        action="cancel",
        payload={"reason": data.reason},
    )
    await session.commit()
    return inspection


async def present(session: AsyncSession, officer: Officer, rows: list[Inspection]) -> list[InspectionOut]:
    ids = {r.unit_id for r in rows}
    units = {u.id: u for u in (await session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))).all()}
    base = await access.actors(session, officer)
    out = []
    for r in rows:
        head = officer.has(Role.unit_head) and officer.unit_id == r.unit_id
        who = base | {flow.Actor.inspected_head} if head else base
        out.append(
            InspectionOut(
                id=r.id or 0,
                plan_item_id=r.plan_item_id,
                unit_id=r.unit_id,
                unit_code=units[r.unit_id].code,
                unit_name=units[r.unit_id].name,
                year=r.year,
                status=r.status,
                review_period=r.review_period,
                review_start=r.review_start,
                review_end=r.review_end,
                decision_number=r.decision_number,
                decision_date=r.decision_date,
                members=r.members,
                start_date=r.start_date,
                end_date=r.end_date,
                cancel_reason=r.cancel_reason,
                allowed_actions=flow.allowed_actions(flow.InspectionStatus(r.status), who),
            )
        )
    return out


async def list_inspections(
    session: AsyncSession,
    officer: Officer,
    *,
    year: int | None,
    status: list[str] | None,
    unit_id: int | None,
    plan_id: int | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Inspection], str | None]:
    stmt = sa.select(Inspection).where(await access.unit_filter(session, officer, Inspection.unit_id))
    if year is not None:
        stmt = stmt.where(Inspection.year == year)
    if status:
        stmt = stmt.where(Inspection.status.in_(status))
    if unit_id is not None:
        stmt = stmt.where(Inspection.unit_id == unit_id)
    if plan_id is not None:
        stmt = stmt.where(
            Inspection.plan_item_id.in_(sa.select(InspectionPlanItem.id).where(InspectionPlanItem.plan_id == plan_id))
        )
    return await by_id(Inspection.id, descending=True).fetch(session, stmt, limit=limit, cursor=cursor)
