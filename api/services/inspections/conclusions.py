"""The conclusion (kết luận kiểm tra): drafted by an inspector while the inspection is in progress (number, date,
text and the recommendations: each the unit responsible, what must be done and a deadline), replaced freely until
the chief inspector signs it; signing issues it once — the evaluation's figures are frozen into it, the
recommendations start their timers, the inspection is concluded — and nothing of it changes afterwards."""

import hashlib
import json
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.inspections import ConclusionIn, ConclusionOut, InspectionConclusion, Recommendation
from api.models.unit import Unit
from api.services import audit
from api.services.inspections import access, conduct, evaluation, recommendations
from api.services.inspections.plans import not_in_future, review_ended
from workflows.calendar import WorkCalendar
from workflows.inspections import Actor, InspectionAction, InspectionStatus


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _existing(session: AsyncSession, inspection_id: int, *, lock: bool = False) -> InspectionConclusion | None:
    stmt = sa.select(InspectionConclusion).where(InspectionConclusion.inspection_id == inspection_id)
    found: InspectionConclusion | None = await session.scalar(stmt.with_for_update() if lock else stmt)
    return found


async def draft(
    session: AsyncSession, officer: Officer, inspection_id: int, data: ConclusionIn, *, today: date
) -> InspectionConclusion:
    await access.require_inspector(session, officer)
    inspection = await conduct.load(session, officer, inspection_id, lock=True)
    access.no_conflict(officer, unit_id=inspection.unit_id)
    if inspection.status != InspectionStatus.in_progress:
        raise DomainError(Code.inspection_action_not_allowed, details={"status": inspection.status, "allowed": []})
    not_in_future(data.conclusion_date, today, "conclusion_date")
    review_ended(inspection.review_end, today)
    if inspection.start_date is not None and data.conclusion_date < inspection.start_date:
        raise DomainError(Code.date_before_previous_step, details={"field": "conclusion_date"})
    end = data.end_date or data.conclusion_date
    if end > data.conclusion_date or (inspection.start_date is not None and end < inspection.start_date):
        raise DomainError(Code.invalid_range, details={"field": "end_date"})
    wanted = {r.unit_id for r in data.recommendations}
    known = set(await session.scalars(sa.select(Unit.id).where(Unit.id.in_(wanted), Unit.is_active)))
    for r in data.recommendations:
        if r.unit_id not in known:
            raise DomainError(Code.no_such_unit, details={"field": "recommendations.unit_id", "unit_id": r.unit_id})
        if r.deadline < data.conclusion_date:
            raise DomainError(Code.invalid_range, details={"field": "recommendations.deadline"})
    conclusion = await _existing(session, inspection_id, lock=True)
    if conclusion is not None and conclusion.signed_at is not None:
        raise DomainError(Code.conclusion_already_issued)
    recs = [
        {"unit_id": r.unit_id, "action": r.action, "deadline": r.deadline.isoformat()} for r in data.recommendations
    ]
    # The audit keeps a trace of what a replaced draft said (its digest, not its text).
    replaced = None if conclusion is None else {
        "number": conclusion.number,
        "text_sha256": sha256(conclusion.text),
        "recommendations_sha256": sha256(json.dumps(conclusion.draft_recommendations, sort_keys=True)),
    }  # fmt: skip
    if conclusion is None:
        conclusion = InspectionConclusion(
            inspection_id=inspection_id,
            number=data.number,
            conclusion_date=data.conclusion_date,
            text=data.text,
            draft_recommendations=recs,
            drafted_by_id=officer.id,
        )
        session.add(conclusion)
    else:
        conclusion.number, conclusion.conclusion_date, conclusion.text = data.number, data.conclusion_date, data.text
        conclusion.draft_recommendations, conclusion.drafted_by_id = recs, officer.id
    inspection.end_date = end
    await session.flush()
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection_conclusion",
        entity_id=conclusion.id,
        action="draft",
        payload={
            "inspection_id": inspection_id,
            "number": data.number,
            "recommendations": len(recs),
            "text_sha256": sha256(data.text),
            "recommendations_sha256": sha256(json.dumps(recs, sort_keys=True)),
            "replaced": replaced,
        },
    )
    await session.commit()
    return conclusion


async def sign(
    session: AsyncSession, officer: Officer, inspection_id: int, *, today: date, cal: WorkCalendar
) -> InspectionConclusion:
    """Ký ban hành: the chief inspector issues the draft, once."""
    await access.require_chief(session, officer)
    inspection = await conduct.load(session, officer, inspection_id, lock=True)
    access.no_conflict(officer, unit_id=inspection.unit_id)
    conclusion = await _existing(session, inspection_id, lock=True)
    if conclusion is None:
        raise DomainError(Code.conclusion_not_found)
    if conclusion.signed_at is not None:
        raise DomainError(Code.conclusion_already_issued)
    status = conduct.move(inspection, InspectionAction.conclude, frozenset({Actor.chief}))
    review_ended(inspection.review_end, today)
    reader = await evaluation.reader_for(session, officer, inspection)
    figures, changes, taken_on = await evaluation.under_review(
        session, officer, inspection, reader, today=today, cal=cal, commit=False
    )
    inspection.status = status
    conclusion.figures = {
        "computed_on": today.isoformat(),
        "snapshot_on": taken_on.isoformat() if taken_on else None,
        "figures": [f.model_dump(mode="json") for f in figures],
        "changed_since_snapshot": changes,
        "findings": inspection.findings,
    }
    conclusion.signed_by_id, conclusion.signed_at = officer.id, clock.now()
    assert conclusion.id is not None
    for r in conclusion.draft_recommendations:
        session.add(
            Recommendation(
                conclusion_id=conclusion.id,
                inspection_id=inspection_id,
                unit_id=r["unit_id"],
                action=r["action"],
                deadline=date.fromisoformat(r["deadline"]),
                issued_on=conclusion.conclusion_date,
            )
        )
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection_conclusion",
        entity_id=conclusion.id,
        action="sign",
        payload={"inspection_id": inspection_id, "number": conclusion.number},
    )
    await session.commit()
    return conclusion


async def numbers(session: AsyncSession, inspection_ids: list[int]) -> dict[int, str]:
    """The conclusion's number of each inspection that has one."""
    rows = await session.execute(
        sa.select(InspectionConclusion.inspection_id, InspectionConclusion.number).where(
            InspectionConclusion.inspection_id.in_(inspection_ids)
        )
    )
    return dict(rows.tuples().all())


async def read(
    session: AsyncSession, officer: Officer, inspection_id: int, *, today: date, cal: WorkCalendar, threshold: int
) -> ConclusionOut:
    """The conclusion: the inspectorate sees the draft too; the inspected unit's head only an issued one."""
    await conduct.load(session, officer, inspection_id)
    conclusion = await _existing(session, inspection_id)
    who = await access.actors(session, officer)
    if conclusion is None or (conclusion.signed_at is None and not who & {Actor.inspector, Actor.chief}):
        raise DomainError(Code.conclusion_not_found)
    recs = (
        await session.scalars(
            sa.select(Recommendation).where(Recommendation.conclusion_id == conclusion.id).order_by(Recommendation.id)
        )
    ).all()
    return ConclusionOut(
        id=conclusion.id or 0,
        inspection_id=inspection_id,
        number=conclusion.number,
        conclusion_date=conclusion.conclusion_date,
        text=conclusion.text,
        issued=conclusion.signed_at is not None,
        signed_by_id=conclusion.signed_by_id,
        signed_at=conclusion.signed_at,
        draft_recommendations=conclusion.draft_recommendations,
        figures=conclusion.figures,
        recommendations=await recommendations.present(session, list(recs), today=today, cal=cal, threshold=threshold),
    )
