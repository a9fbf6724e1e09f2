"""Inspection plans (kế hoạch kiểm tra) per year: drafted by an inspector with the units to inspect, the subject,
each unit's period under review and planned month; approved once by the chief inspector's decision (number, date);
changed after approval only by an amendment with its own decision, kept as a record of what it added, removed and
rescheduled. The areas and ratings in force when the plan is made are copied into it."""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.inspections import (
    AmendmentIn,
    AmendmentOut,
    DecisionIn,
    Inspection,
    InspectionCriterion,
    InspectionPlan,
    InspectionPlanAmendment,
    InspectionPlanItem,
    PlanIn,
    PlanItemIn,
    PlanItemOut,
    PlanOut,
    PlanSummaryOut,
)
from api.models.unit import Unit
from api.pagination import Keyset
from api.services import audit
from api.services.inspections import access
from api.services.stats import forms
from workflows.inspections import PlanStatus


def not_in_future(day: date, today: date, field: str) -> None:
    if day > today:
        raise DomainError(Code.date_in_future, details={"field": field})


async def criteria(session: AsyncSession) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The areas and the rating scale in force (table `inspection_criteria`)."""
    rows = (
        await session.scalars(
            sa.select(InspectionCriterion).where(InspectionCriterion.active).order_by(InspectionCriterion.position)
        )
    ).all()
    areas = [{"code": c.code, "label": c.label} for c in rows if c.kind == "area"]
    ratings = [{"code": c.code, "label": c.label, "shortfall": c.shortfall} for c in rows if c.kind == "rating"]
    return areas, ratings


def review_ended(end: date, today: date) -> None:
    """The period under review must be over (its last day passed): an evaluation counts what happened."""
    if end >= today:
        raise DomainError(Code.review_period_not_ended, details={"field": "review_period", "end": end.isoformat()})


def before_planned_month(end: date, year: int, month: int, item_id: int | None = None) -> None:
    """A plan line's period under review ends before the first day of the month the unit is to be inspected."""
    if end >= date(year, month, 1):
        raise DomainError(
            Code.review_period_after_plan,
            details={"field": "review_period", "end": end.isoformat(), "planned_month": month, "item_id": item_id},
        )


async def _item(session: AsyncSession, plan_id: int, year: int, data: PlanItemIn) -> InspectionPlanItem:
    unit = await session.scalar(sa.select(Unit).where(Unit.id == data.unit_id, Unit.is_active))
    if unit is None:
        raise DomainError(Code.no_such_unit, details={"field": "unit_id", "unit_id": data.unit_id})
    period = forms.parse_period(data.review_period, None, None)
    before_planned_month(period.end, year, data.planned_month)
    return InspectionPlanItem(
        plan_id=plan_id,
        unit_id=data.unit_id,
        review_period=period.label,
        review_start=period.start,
        review_end=period.end,
        planned_month=data.planned_month,
    )


def no_repeated_unit(unit_ids: list[int]) -> None:
    """One line per unit in a plan (checked here: a unique index would need a migration)."""
    seen: set[int] = set()
    for u in unit_ids:
        if u in seen:
            raise DomainError(Code.plan_unit_repeated, details={"field": "items.unit_id", "unit_id": u})
        seen.add(u)


async def create(session: AsyncSession, officer: Officer, data: PlanIn) -> InspectionPlan:
    await access.require_inspector(session, officer)
    no_repeated_unit([i.unit_id for i in data.items])
    areas, ratings = await criteria(session)
    plan = InspectionPlan(
        year=data.year,
        title=data.title,
        subject=data.subject,
        areas=areas,
        ratings=ratings,
        created_by_id=officer.id,
    )
    session.add(plan)
    await session.flush()
    assert plan.id is not None
    for line in data.items:
        session.add(await _item(session, plan.id, data.year, line))
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection_plan",
        entity_id=plan.id,
        action="create",
        payload={"year": data.year, "unit_ids": [i.unit_id for i in data.items]},
    )
    await session.commit()
    return plan


async def load(session: AsyncSession, officer: Officer, plan_id: int, *, lock: bool = False) -> InspectionPlan:
    await access.require_inspectorate(session, officer)
    stmt = sa.select(InspectionPlan).where(InspectionPlan.id == plan_id)
    plan = await session.scalar(stmt.with_for_update() if lock else stmt)
    if plan is None:
        raise DomainError(Code.plan_not_found)
    return plan


async def approve(
    session: AsyncSession, officer: Officer, plan_id: int, data: DecisionIn, *, today: date
) -> InspectionPlan:
    """Phê duyệt: the chief inspector's decision (number, date) approves the draft; never twice."""
    await access.require_chief(session, officer)
    plan = await load(session, officer, plan_id, lock=True)
    if plan.status != PlanStatus.draft:
        raise DomainError(Code.plan_not_draft)
    not_in_future(data.decision_date, today, "decision_date")
    if data.decision_date.year not in (plan.year - 1, plan.year):
        raise DomainError(
            Code.plan_approval_date_out_of_range, details={"field": "decision_date", "plan_year": plan.year}
        )
    plan.status = PlanStatus.approved.value
    plan.decision_number, plan.decision_date, plan.approved_by_id = data.decision_number, data.decision_date, officer.id
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection_plan",
        entity_id=plan_id,
        action="approve",
        payload={"decision_number": data.decision_number, "decision_date": data.decision_date.isoformat()},
    )
    await session.commit()
    return plan


async def amend(
    session: AsyncSession, officer: Officer, plan_id: int, data: AmendmentIn, *, today: date
) -> InspectionPlanAmendment:
    """Điều chỉnh kế hoạch: after approval, by the chief inspector's decision; units added, removed (not an
    inspection already under way) and rescheduled, each line keeping which amendment touched it."""
    await access.require_chief(session, officer)
    plan = await load(session, officer, plan_id, lock=True)
    if plan.status != PlanStatus.approved:
        raise DomainError(Code.plan_not_approved)
    not_in_future(data.decision_date, today, "decision_date")
    # Every check first, so that a refused amendment leaves the plan as it was.
    previous = await session.scalar(
        sa.select(sa.func.max(InspectionPlanAmendment.decision_date)).where(InspectionPlanAmendment.plan_id == plan_id)
    )
    floor = max(d for d in (plan.decision_date, previous) if d is not None) if plan.decision_date else previous
    if floor is not None and data.decision_date < floor:
        raise DomainError(
            Code.date_before_previous_step, details={"field": "decision_date", "not_before": floor.isoformat()}
        )
    live = {i.id: i for i in await _items(session, plan_id) if i.removed_by_amendment_id is None}
    started = set(
        await session.scalars(
            sa.select(Inspection.plan_item_id).where(
                Inspection.plan_item_id.in_(list(live)), Inspection.status != "cancelled"
            )
        )
    )
    for item_id in [*data.remove, *(r.item_id for r in data.reschedule)]:
        if item_id not in live:
            raise DomainError(Code.plan_item_not_found, details={"item_id": item_id})
    for item_id in data.remove:
        if item_id in started:
            raise DomainError(Code.inspection_exists, details={"item_id": item_id})
    removed = set(data.remove)
    no_repeated_unit([i.unit_id for i in live.values() if i.id not in removed] + [a.unit_id for a in data.add])
    for r in data.reschedule:
        before_planned_month(live[r.item_id].review_end, plan.year, r.planned_month, r.item_id)
    new_items = [await _item(session, plan_id, plan.year, line) for line in data.add]
    amendment = InspectionPlanAmendment(
        plan_id=plan_id,
        decision_number=data.decision_number,
        decision_date=data.decision_date,
        reason=data.reason,
        decided_by_id=officer.id,
        changes={},
    )
    session.add(amendment)
    await session.flush()
    for item_id in data.remove:
        live[item_id].removed_by_amendment_id = amendment.id
    for r in data.reschedule:
        live[r.item_id].planned_month = r.planned_month
    for item in new_items:
        item.added_by_amendment_id = amendment.id
        session.add(item)
    added = [i.unit_id for i in new_items]
    amendment.changes = {
        "added_unit_ids": added,
        "removed_item_ids": list(data.remove),
        "rescheduled": [{"item_id": r.item_id, "planned_month": r.planned_month} for r in data.reschedule],
    }
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection_plan",
        entity_id=plan_id,
        action="amend",
        payload={"amendment_id": amendment.id, "decision_number": data.decision_number, **amendment.changes},
    )
    await session.commit()
    return amendment


async def _items(session: AsyncSession, plan_id: int) -> list[InspectionPlanItem]:
    return list(
        (
            await session.scalars(
                sa.select(InspectionPlanItem)
                .where(InspectionPlanItem.plan_id == plan_id)
                .order_by(InspectionPlanItem.planned_month, InspectionPlanItem.id)
            )
        ).all()
    )


async def present(session: AsyncSession, plan: InspectionPlan) -> PlanOut:
    assert plan.id is not None
    items = await _items(session, plan.id)
    units = {
        u.id: u for u in (await session.scalars(sa.select(Unit).where(Unit.id.in_([i.unit_id for i in items])))).all()
    }
    done: dict[int | None, int | None] = dict(
        (
            await session.execute(
                sa.select(Inspection.plan_item_id, Inspection.id).where(
                    Inspection.plan_item_id.in_([i.id for i in items])
                )
            )
        )
        .tuples()
        .all()
    )
    amendments = (
        await session.scalars(
            sa.select(InspectionPlanAmendment)
            .where(InspectionPlanAmendment.plan_id == plan.id)
            .order_by(InspectionPlanAmendment.id)
        )
    ).all()
    return PlanOut(
        id=plan.id,
        year=plan.year,
        title=plan.title,
        subject=plan.subject,
        status=plan.status,
        decision_number=plan.decision_number,
        decision_date=plan.decision_date,
        approved_by_id=plan.approved_by_id,
        areas=plan.areas,
        ratings=plan.ratings,
        items=[
            PlanItemOut(
                id=i.id or 0,
                unit_id=i.unit_id,
                unit_code=units[i.unit_id].code,
                unit_name=units[i.unit_id].name,
                review_period=i.review_period,
                review_start=i.review_start,
                review_end=i.review_end,
                planned_month=i.planned_month,
                added_by_amendment_id=i.added_by_amendment_id,
                removed_by_amendment_id=i.removed_by_amendment_id,
                inspection_id=done.get(i.id),
            )
            for i in items
        ],
        amendments=[
            AmendmentOut(
                id=a.id or 0,
                decision_number=a.decision_number,
                decision_date=a.decision_date,
                reason=a.reason,
                changes=a.changes,
                decided_by_id=a.decided_by_id,
            )
            for a in amendments
        ],
    )


async def of_year(session: AsyncSession, officer: Officer, year: int) -> list[PlanOut]:
    """Every plan of a year, whole (the dashboard's page)."""
    await access.require_inspectorate(session, officer)
    found = await session.scalars(
        sa.select(InspectionPlan).where(InspectionPlan.year == year).order_by(InspectionPlan.id)
    )
    return [await present(session, p) for p in found.all()]


# Plans newest first; each row is (plan, its units still in the plan).
NEWEST_FIRST: Keyset[Any] = Keyset(
    columns=(InspectionPlan.id,), kinds=(int,), key=lambda row: [row[0].id], descending=True
)


async def list_plans(
    session: AsyncSession, officer: Officer, *, year: int | None, status: str | None, limit: int, cursor: str | None
) -> tuple[list[PlanSummaryOut], str | None]:
    await access.require_inspectorate(session, officer)
    units = (
        sa.select(sa.func.count())
        .where(InspectionPlanItem.plan_id == InspectionPlan.id, InspectionPlanItem.removed_by_amendment_id.is_(None))
        .scalar_subquery()
    )
    stmt = sa.select(InspectionPlan, units.label("units"))
    if year is not None:
        stmt = stmt.where(InspectionPlan.year == year)
    if status is not None:
        stmt = stmt.where(InspectionPlan.status == status)
    rows = (await session.execute(NEWEST_FIRST.apply(stmt, limit=limit, cursor=cursor))).all()
    page, next_cursor = NEWEST_FIRST.page(rows, limit)
    return [
        PlanSummaryOut(
            id=p.id or 0,
            year=p.year,
            title=p.title,
            status=p.status,
            decision_number=p.decision_number,
            decision_date=p.decision_date,
            units=n,
        )
        for p, n in page
    ], next_cursor
