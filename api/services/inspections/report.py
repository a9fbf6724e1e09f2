"""The six-month and annual report of Thanh tra tỉnh to Sở Nội vụ (plan 13/KH-UBND section IV.5: "định kỳ 06
tháng, 01 năm báo cáo kết quả về Sở Nội vụ"), periods `YYYY-H1` and `YYYY` with the statutory cut-offs the report
forms use: inspections planned (lines of approved plans whose month falls in the half-year or year) and done
(conclusions issued in the period), the units found short and in what (findings rated on a shortfall rating),
recommendations made / done / overdue, and the province's headline figures from the statistics summary.

Submitted (by the chief inspector) it is frozen as `stats.reports` freezes a form: stored once, never changed (the
application role may only insert and read it), and compared figure by figure with the live one (`diff`)."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.auth import Officer
from api.errors import Code, DomainError
from api.models.inspections import (
    Inspection,
    InspectionConclusion,
    InspectionPlan,
    InspectionPlanItem,
    InspectorateReport,
    Recommendation,
    RecommendationReport,
)
from api.models.unit import Unit
from api.pagination import by_id
from api.services import audit
from api.services.inspections import access, evaluation, recommendations
from api.services.stats import oversight
from workflows import periods
from workflows.calendar import WorkCalendar
from workflows.inspections import PlanStatus, latest_deadline_before

HEADLINE = ("received", "settled", "on_time", "on_time_rate", "median_days_to_settle")


def parse_period(label: str) -> periods.Period:
    try:
        return periods.parse(label, cutoffs=periods.STATUTORY, allow=frozenset({"half", "year"}))
    except periods.PeriodError as exc:
        raise DomainError(Code.invalid_period, details={"field": "period", "hint": str(exc)}) from None


async def _overdue_at(
    session: AsyncSession, recs: Sequence[Recommendation], as_of: date, cal: WorkCalendar
) -> list[Recommendation]:
    """Overdue on `as_of`: past the effective deadline (a day off rolls it to the next working day), not done by
    then, and not waiting then for the inspectorate's decision on a report filed by then (its reported date)."""
    last = latest_deadline_before(cal, as_of)
    late = [r for r in recs if r.deadline <= last and (r.done_on is None or r.done_on > as_of)]
    reports = (
        await session.scalars(
            sa.select(RecommendationReport).where(RecommendationReport.recommendation_id.in_([r.id for r in late]))
        )
    ).all()
    waiting = {
        r.recommendation_id
        for r in reports
        if recommendations.filed_on(r) <= as_of and (r.decided_on is None or r.decided_on > as_of)
    }
    return [r for r in late if r.id not in waiting]


async def build(
    session: AsyncSession,
    officer: Officer,
    period: periods.Period,
    today: date,
    cal: WorkCalendar,
    *,
    complete: bool = False,
) -> dict[str, Any]:
    """The report as the record stands now. The province's figures are the inspectorate's, whoever asks — save an
    officer named as accused, whose live report leaves out the cases naming them; the report frozen on submission
    is always complete (`complete`)."""
    months = periods.parse(period.label).months()  # the calendar months the plan's months are compared with
    items = (
        await session.execute(
            sa.select(InspectionPlanItem, InspectionPlan.year)
            .join(InspectionPlan, InspectionPlan.id == InspectionPlanItem.plan_id)
            .where(InspectionPlan.status == PlanStatus.approved, InspectionPlanItem.removed_by_amendment_id.is_(None))
        )
    ).all()
    planned = [i for i, year in items if date(year, i.planned_month, 1) in months]
    concluded = (
        await session.execute(
            sa.select(Inspection, InspectionConclusion, Unit)
            .join(InspectionConclusion, InspectionConclusion.inspection_id == Inspection.id)
            .join(Unit, Unit.id == Inspection.unit_id)
            .where(
                InspectionConclusion.signed_at.is_not(None),
                InspectionConclusion.conclusion_date.between(period.start, period.end),
            )
            .order_by(InspectionConclusion.conclusion_date, Inspection.id)
        )
    ).all()
    short = []
    for inspection, _conclusion, unit in concluded:
        scale_areas, scale_ratings = await evaluation.plan_scale(session, inspection)
        ratings = {r["code"]: r for r in scale_ratings}
        labels = {a["code"]: a["label"] for a in scale_areas}
        areas = [f["area"] for f in inspection.findings if ratings.get(f["rating"], {}).get("shortfall")]
        if areas:
            short.append(
                {
                    "unit_id": unit.id,
                    "unit_code": unit.code,
                    "unit_name": unit.name,
                    "areas": areas,
                    "area_labels": [labels.get(a, a) for a in areas],
                }
            )
    recs = (await session.scalars(sa.select(Recommendation).where(Recommendation.issued_on <= period.end))).all()
    made = [r for r in recs if r.issued_on >= period.start]
    done = [r for r in recs if r.done_on is not None and period.start <= r.done_on <= period.end]
    as_of = min(period.end, today)
    overdue = await _overdue_at(session, recs, as_of, cal)
    reader = replace(officer, roles=officer.roles | {"inspector"})  # the province's counts: no identity in them
    summary = await oversight.summary(session, reader, period, None, today, complete=complete)
    due = periods.report_due(period)
    return {
        "period": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        # Due before 10 June / 5 December (plan 13/KH-UBND, LEGAL.md); the data window (statutory cut-off, to 14 June
        # / 14 December) ends after that day, so a report sent by its due date is provisional.
        "due_date": due.isoformat() if due else None,
        "window_ends_after_due": bool(due and period.end >= due),
        "provisional": period.end >= today,
        "generated_at": clock.now().isoformat(),
        "counts": {
            "inspections_planned": len(planned),
            "inspections_done": len(concluded),
            "units_found_short": len(short),
            "recommendations_made": len(made),
            "recommendations_done": len(done),
            "recommendations_overdue": len(overdue),
        },
        "province": {
            **{k: summary[k] for k in HEADLINE},
            "satisfaction_ratings": summary["satisfaction"]["ratings"],
            "satisfaction_share_4_5": summary["satisfaction"]["share_4_5"],
        },
        "inspections": [
            {
                "inspection_id": i.id,
                "unit_code": u.code,
                "unit_name": u.name,
                "decision_number": i.decision_number,
                "conclusion_number": c.number,
                "conclusion_date": c.conclusion_date.isoformat(),
            }
            for i, c, u in concluded
        ],
        "units_short": short,
    }


def _late(due: str | None, on: date) -> bool | None:
    return None if due is None else on > date.fromisoformat(due)


async def live(
    session: AsyncSession, officer: Officer, period: periods.Period, today: date, cal: WorkCalendar
) -> dict[str, Any]:
    """The report as the record stands; `late`: submitted after its due date, or not submitted and past it."""
    await access.require_inspectorate(session, officer)
    doc = await build(session, officer, period, today, cal)
    sent = await session.scalar(sa.select(InspectorateReport).where(InspectorateReport.period == period.label))
    sent_on = clock.legal_date(sent.submitted_at) if sent is not None and sent.submitted_at else None
    doc["submitted_on"] = sent_on.isoformat() if sent_on else None
    doc["late"] = _late(doc["due_date"], sent_on or today)
    return doc


def check_submittable(period: periods.Period, today: date, provisional: bool) -> None:
    """A report is frozen once per period and never changed: never for a period not yet begun (a typo would block
    the real report for ever); before the period's end only when the chief marks it provisional."""
    if period.start > today:
        raise DomainError(
            Code.inspectorate_period_not_started, details={"period": period.label, "start": period.start.isoformat()}
        )
    if period.end >= today and not provisional:
        raise DomainError(
            Code.inspectorate_period_not_ended,
            details={"period": period.label, "end": period.end.isoformat(), "field": "provisional"},
        )


async def submit(
    session: AsyncSession,
    officer: Officer,
    period: periods.Period,
    today: date,
    cal: WorkCalendar,
    *,
    provisional: bool = False,
) -> InspectorateReport:
    """Gửi báo cáo: the chief inspector freezes the period's report; once. Before the period ends only as a
    provisional report (recorded as such in the frozen document), never for a period not yet begun."""
    await access.require_chief(session, officer)
    check_submittable(period, today, provisional)
    doc = await build(session, officer, period, today, cal, complete=True)
    doc["submitted_on"] = today.isoformat()
    doc["late"] = _late(doc["due_date"], today)
    exists = await session.scalar(sa.select(InspectorateReport.id).where(InspectorateReport.period == period.label))
    if exists is not None:
        raise DomainError(Code.report_already_submitted, details={"report_id": exists})
    row = InspectorateReport(
        period=period.label, start=period.start, end=period.end, figures=doc, submitted_by_id=officer.id
    )
    session.add(row)
    try:
        await session.flush()
    except sa.exc.IntegrityError:  # a parallel submission won
        await session.rollback()
        raise DomainError(Code.report_already_submitted) from None
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspectorate_report",
        entity_id=row.id,
        action="submit",
        payload={"period": period.label, "provisional": doc["provisional"], "late": doc["late"]},
    )
    await session.commit()
    return row


async def _reader(session: AsyncSession, officer: Officer, recipient: str) -> None:
    if not await access.is_report_reader(session, officer, recipient):
        raise DomainError(Code.inspectorate_report_forbidden)


async def get(session: AsyncSession, officer: Officer, report_id: int, recipient: str) -> InspectorateReport:
    await _reader(session, officer, recipient)
    row: InspectorateReport | None = await session.get(InspectorateReport, report_id)
    if row is None:
        raise DomainError(Code.inspectorate_report_not_found)
    return row


async def list_reports(
    session: AsyncSession, officer: Officer, recipient: str, *, limit: int, cursor: str | None
) -> tuple[list[InspectorateReport], str | None]:
    await _reader(session, officer, recipient)
    stmt = sa.select(InspectorateReport)
    return await by_id(InspectorateReport.id, descending=True).fetch(session, stmt, limit=limit, cursor=cursor)


def _flat(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **{f"counts.{k}": v for k, v in doc["counts"].items()},
        **{f"province.{k}": v for k, v in doc["province"].items()},
    }


async def diff(
    session: AsyncSession, officer: Officer, report: InspectorateReport, today: date, cal: WorkCalendar
) -> list[dict[str, Any]]:
    """Every figure of the submitted report that the live report no longer shows."""
    period = periods.Period(report.period, report.start, report.end)
    now = _flat(await build(session, officer, period, today, cal))
    then = _flat(report.figures)
    return [
        {"figure": key, "submitted": then.get(key), "live": now.get(key)}
        for key in sorted(set(now) | set(then))
        if then.get(key) != now.get(key)
    ]
