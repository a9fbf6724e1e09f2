"""Recommendations (kiến nghị) of issued conclusions, followed to their end: each runs under a timer (due soon,
overdue: `workflows.inspections.RecommendationTimer`, on the working-day calendar as a case's duties); the
responsible unit's head reports what was done (date, document reference), an inspector accepts the report (done)
or rejects it (open again); an overdue one is on the inspectorate's list (`state=overdue`) and is urged as an
overdue case is (`urge`, like `stats.oversight.urge`: one record per recommendation, audited)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.inspections import (
    Recommendation,
    RecommendationOut,
    RecommendationReport,
    RecommendationTimerOut,
    RecommendationUrge,
    ReportDecisionIn,
    ReportIn,
)
from api.models.unit import Unit
from api.pagination import by_date_and_id, by_id
from api.services import audit
from api.services.inspections import access
from api.services.inspections.plans import not_in_future
from workflows.calendar import WorkCalendar
from workflows.inspections import (
    Actor,
    RecommendationAction,
    RecommendationStatus,
    RecommendationTimer,
    TransitionRefused,
    due_soon_deadlines,
    latest_deadline_before,
    next_recommendation_status,
)

MAX_URGE = 500
OPEN = RecommendationStatus.open.value


def filed_on(report: RecommendationReport) -> date:
    """The day a unit's report was filed (Hà Nội date), never before the day it says the work was done."""
    at = report.created_at
    day = clock.legal_date(at) if isinstance(at, datetime) else report.done_on
    return max(day, report.done_on)


async def pending_reports(session: AsyncSession, rec_ids: list[int]) -> dict[int, date]:
    """The day each recommendation's report still awaiting a decision was filed."""
    rows = await session.scalars(
        sa.select(RecommendationReport).where(
            RecommendationReport.recommendation_id.in_(rec_ids), RecommendationReport.decision.is_(None)
        )
    )
    return {r.recommendation_id: filed_on(r) for r in rows.all()}


def overdue_where(cal: WorkCalendar, today: date) -> sa.ColumnElement[bool]:
    """Open (not reported, not done) and past its effective deadline (a day off rolls it to the next working day)."""
    return sa.and_(Recommendation.status == OPEN, Recommendation.deadline <= latest_deadline_before(cal, today))


async def present(
    session: AsyncSession, rows: list[Recommendation], *, today: date, cal: WorkCalendar, threshold: int
) -> list[RecommendationOut]:
    units = {u.id: u for u in (await session.scalars(sa.select(Unit).where(Unit.id.in_({r.unit_id for r in rows}))))}
    waiting = await pending_reports(session, [r.id for r in rows if r.id is not None and r.status != OPEN])
    out = []
    for r in rows:
        reported = waiting.get(r.id or 0) if r.status == RecommendationStatus.reported else None
        timer = RecommendationTimer(r.deadline, r.done_on, reported)
        out.append(
            RecommendationOut(
                id=r.id or 0,
                inspection_id=r.inspection_id,
                conclusion_id=r.conclusion_id,
                unit_id=r.unit_id,
                unit_code=units[r.unit_id].code,
                unit_name=units[r.unit_id].name,
                action=r.action,
                deadline=r.deadline,
                status=r.status,
                done_on=r.done_on,
                issued_on=r.issued_on,
                urged_count=r.urged_count,
                last_urged_on=r.last_urged_on,
                timer=RecommendationTimerOut(
                    deadline=r.deadline,
                    effective_deadline=timer.effective(cal),
                    state=timer.state(cal, today, threshold).value,
                    remaining_days=timer.remaining_days(cal, today),
                    reported_on=reported,
                ),
            )
        )
    return out


async def list_recommendations(
    session: AsyncSession,
    officer: Officer,
    *,
    unit_id: int | None,
    inspection_id: int | None,
    status: str | None,
    state: str | None,
    today: date,
    cal: WorkCalendar,
    threshold: int,
    limit: int,
    cursor: str | None,
) -> tuple[list[Recommendation], str | None]:
    """Nearest deadline first. `state=overdue`: open and past the effective deadline (the inspectorate's watch-list
    of recommendations); `state=due_soon`: open, and the timer says due soon. A reported one waits for the
    inspectorate, so is in neither (`status=reported` lists them)."""
    stmt = sa.select(Recommendation).where(await access.unit_filter(session, officer, Recommendation.unit_id))
    if unit_id is not None:
        stmt = stmt.where(Recommendation.unit_id == unit_id)
    if inspection_id is not None:
        stmt = stmt.where(Recommendation.inspection_id == inspection_id)
    if status is not None:
        stmt = stmt.where(Recommendation.status == status)
    if state == "overdue":
        stmt = stmt.where(overdue_where(cal, today))
    elif state == "due_soon":
        lo, hi = due_soon_deadlines(cal, today, threshold)  # RecommendationTimer's rule, as a range of deadlines
        stmt = stmt.where(Recommendation.status == OPEN, Recommendation.deadline.between(lo, hi))
    elif state is not None:
        raise DomainError(Code.validation_error, details={"field": "state", "allowed": ["due_soon", "overdue"]})
    order = by_date_and_id(Recommendation.deadline, Recommendation.id)
    return await order.fetch(session, stmt, limit=limit, cursor=cursor)


async def load(session: AsyncSession, officer: Officer, rec_id: int, *, lock: bool = False) -> Recommendation:
    visible = await access.unit_filter(session, officer, Recommendation.unit_id)
    stmt = sa.select(Recommendation).where(Recommendation.id == rec_id, visible)
    found = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise DomainError(Code.recommendation_not_found)
    return found


def _move(rec: Recommendation, action: RecommendationAction, who: frozenset[Actor]) -> str:
    """The status `action` leads to (409 if none), set by the caller once every other check has passed."""
    try:
        return next_recommendation_status(RecommendationStatus(rec.status), action, who).value
    except TransitionRefused as exc:
        raise DomainError(
            Code.recommendation_action_not_allowed, details={"status": rec.status, "allowed": exc.allowed}
        ) from None


async def report(
    session: AsyncSession, officer: Officer, rec_id: int, data: ReportIn, *, today: date
) -> RecommendationReport:
    """The responsible unit's head reports what was done (the date, the document)."""
    rec = await load(session, officer, rec_id, lock=True)
    status = _move(rec, RecommendationAction.report, await access.actors(session, officer, rec.unit_id))
    not_in_future(data.done_on, today, "done_on")
    if data.done_on < rec.issued_on:
        raise DomainError(Code.date_before_previous_step, details={"field": "done_on"})
    rec.status = status
    row = RecommendationReport(
        recommendation_id=rec_id,
        done_on=data.done_on,
        document_ref=data.document_ref,
        text=data.text,
        reported_by_id=officer.id,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor_id=officer.id,
        entity="recommendation",
        entity_id=rec_id,
        action="report",
        payload={"report_id": row.id, "done_on": data.done_on.isoformat(), "document_ref": data.document_ref},
    )
    await session.commit()
    return row


async def decide(
    session: AsyncSession, officer: Officer, rec_id: int, report_id: int, data: ReportDecisionIn, *, today: date
) -> RecommendationReport:
    """An inspector accepts the report (the recommendation is done on the date reported) or rejects it (open)."""
    rec = await load(session, officer, rec_id, lock=True)
    row: RecommendationReport | None = await session.scalar(
        sa.select(RecommendationReport)
        .where(RecommendationReport.id == report_id, RecommendationReport.recommendation_id == rec_id)
        .with_for_update()
    )
    if row is None:
        raise DomainError(Code.recommendation_not_found, details={"report_id": report_id})
    who = await access.actors(session, officer, rec.unit_id)
    if row.decision is not None:
        raise DomainError(Code.recommendation_action_not_allowed, details={"status": rec.status, "allowed": []})
    action = RecommendationAction.accept if data.decision == "accepted" else RecommendationAction.reject
    status = _move(rec, action, who & {Actor.inspector, Actor.chief})
    access.no_conflict(officer, unit_id=rec.unit_id, author_id=row.reported_by_id)
    rec.status = status
    rec.done_on = row.done_on if action is RecommendationAction.accept else None
    row.decision, row.decision_note, row.decided_by_id, row.decided_on = data.decision, data.note, officer.id, today
    audit.record(
        session,
        actor_id=officer.id,
        entity="recommendation",
        entity_id=rec_id,
        action=data.decision,
        payload={"report_id": report_id},
    )
    await session.commit()
    return row


async def reports(
    session: AsyncSession, officer: Officer, rec_id: int, *, limit: int, cursor: str | None
) -> tuple[list[RecommendationReport], str | None]:
    await load(session, officer, rec_id)
    stmt = sa.select(RecommendationReport).where(RecommendationReport.recommendation_id == rec_id)
    return await by_id(RecommendationReport.id, descending=True).fetch(session, stmt, limit=limit, cursor=cursor)


async def urge(
    session: AsyncSession,
    officer: Officer,
    unit_id: int,
    rec_ids: list[int] | None,
    reason: str | None,
    *,
    today: date,
    cal: WorkCalendar,
) -> list[int]:
    """Đôn đốc: the inspectorate urges the responsible unit on its overdue recommendations (all, up to 500, or those
    named); each gets an urging record and an audit event, as `stats.oversight.urge` does for overdue cases. Only
    open ones: a reported one waits for the inspectorate's own decision."""
    await access.require_inspectorate(session, officer)
    stmt = sa.select(Recommendation).where(Recommendation.unit_id == unit_id, overdue_where(cal, today))
    if rec_ids is not None:
        found = {
            r.id or 0: r for r in (await session.scalars(stmt.where(Recommendation.id.in_(rec_ids)).with_for_update()))
        }
        missing = sorted(set(rec_ids) - set(found))
        if missing:
            raise DomainError(Code.recommendation_not_overdue, details={"recommendation_ids": missing[:50]})
        targets = [found[i] for i in sorted(found)]
    else:
        targets = list(
            (await session.scalars(stmt.order_by(Recommendation.id).limit(MAX_URGE).with_for_update())).all()
        )
    for rec in targets:
        session.add(
            RecommendationUrge(recommendation_id=rec.id or 0, urged_on=today, reason=reason, actor_id=officer.id)
        )
        rec.urged_count += 1
        rec.last_urged_on = today
        audit.record(
            session,
            actor_id=officer.id,
            entity="recommendation",
            entity_id=rec.id,
            action="urge",
            payload={"urging_unit_id": officer.unit_id, "urged_unit_id": unit_id},
        )
    await session.commit()
    return [r.id or 0 for r in targets]
