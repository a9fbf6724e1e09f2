"""The pre-filled evaluation of an inspected unit for its period under review: the figures an inspector would count
by hand, each taken from the statistics services for the same unit (and the units below it) and period — the report
forms (`stats.forms`: 01/TCD … 05/KQTH, so each figure equals the form's total row), citizens' satisfaction
(`stats.oversight`), the head's reception duty (`reception.duty`) — and counted here only where no form counts it
(letters processed on time, extensions and suspensions, repeat and level-skipping letters, matters overdue at the
end, recommendations of earlier inspections overdue). Each figure carries the API path (with filters) of the cases,
entries or form behind it. Counts only: no name, title or content. Then the findings per area, rated on the plan's
scale."""

from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.inspections import (
    EvaluationIn,
    EvaluationOut,
    FigureOut,
    FindingOut,
    Inspection,
    InspectionPlan,
    InspectionPlanItem,
    Recommendation,
)
from api.models.unit import Unit
from api.services import audit, reception
from api.services.inspections import access, conduct, plans, recommendations
from api.services.stats import forms, oversight
from workflows import periods
from workflows.calendar import WorkCalendar
from workflows.deadlines import Timer, TimerStatus
from workflows.forms import FORMS
from workflows.inspections import Actor, InspectionStatus

V1 = "/api/v1"

# The figures a report form gives, as its total row for the unit and period: (key, label, form, column, link).
FROM_FORMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("letters_carried", "Đơn kỳ trước chuyển sang", "xld", "carried", "xld"),
    ("letters_received", "Đơn tiếp nhận trong kỳ", "xld", "received", "cases"),
    ("letters_processed", "Đơn đã xử lý", "xld", "processed", "xld"),
    ("letters_eligible", "Đơn đủ điều kiện xử lý", "xld", "eligible_letters", "xld"),
    ("complaints_accepted", "Khiếu nại thụ lý mới", "gqkn", "new", "gqkn"),
    ("complaints_settled", "Khiếu nại đã giải quyết", "gqkn", "settled", "gqkn"),
    ("complaints_on_time", "Khiếu nại giải quyết đúng hạn", "gqkn", "on_time", "gqkn"),
    ("complaints_late", "Khiếu nại giải quyết quá hạn", "gqkn", "late", "gqkn"),
    ("complaints_backlog", "Khiếu nại chưa giải quyết xong", "gqkn", "pending", "gqkn"),
    ("second_round_changed", "Quyết định lần đầu bị hủy, sửa ở lần hai", "gqkn", "second_changed", "gqkn"),
    ("denunciations_accepted", "Tố cáo thụ lý mới", "gqtc", "new", "gqtc"),
    ("denunciations_settled", "Tố cáo đã giải quyết", "gqtc", "settled", "gqtc"),
    ("denunciations_on_time", "Tố cáo giải quyết đúng hạn", "gqtc", "on_time", "gqtc"),
    ("denunciations_late", "Tố cáo giải quyết quá hạn", "gqtc", "late", "gqtc"),
    ("denunciations_backlog", "Tố cáo chưa giải quyết xong", "gqtc", "pending", "gqtc"),
    ("further_denunciations", "Tố cáo tiếp", "gqtc", "repeat", "gqtc"),
    ("decisions_to_enforce", "Quyết định, kết luận phải thực hiện", "kqth", "total", "kqth"),
    ("decisions_enforced", "Quyết định, kết luận đã thực hiện xong", "kqth", "enforced", "kqth"),
    ("register_visits", "Lượt tiếp công dân (sổ tiếp)", "tcd", "total_visits", "entries"),
    ("register_matters", "Vụ việc tiếp công dân", "tcd", "total_matters", "entries"),
    ("head_sessions", "Kỳ tiếp của thủ trưởng (trực tiếp)", "tcd", "head_sessions", "tcd"),
    ("delegated_sessions", "Kỳ tiếp ủy quyền", "tcd", "del_sessions", "tcd"),
)
# The figures no form counts, counted here (`_own_counts`): (key, label, link).
OWN: tuple[tuple[str, str, str], ...] = (
    ("letters_processed_on_time", "Đơn xử lý đúng hạn", "cases"),
    ("letters_processed_late", "Đơn xử lý quá hạn", "cases"),
    ("overdue_at_end", "Vụ việc quá hạn cuối kỳ", "overdue"),
    ("extensions", "Số lần gia hạn giải quyết", "cases"),
    ("suspensions", "Số lần tạm đình chỉ", "cases"),
    ("suspended_days", "Số ngày tạm đình chỉ", "cases"),
    ("repeat_letters", "Đơn trùng, tái diễn", "cases"),
    ("level_skipping_letters", "Đơn vượt cấp", "skipping"),
)
# The head's reception duty (reception.duty.compliance): (key, label, its field).
DUTY: tuple[tuple[str, str, str], ...] = (
    ("reception_days_required", "Ngày tiếp định kỳ phải tiếp", "required_days"),
    ("reception_days_in_person", "Ngày thủ trưởng trực tiếp tiếp", "in_person_days"),
    ("reception_days_delegated", "Ngày ủy quyền tiếp", "delegated_days"),
    ("reception_shortfall", "Ngày tiếp còn thiếu", "shortfall"),
)


def _link(path: str, **query: Any) -> str:
    return f"{V1}{path}?" + urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)


async def _units(session: AsyncSession, unit_id: int) -> list[Unit]:
    root = await session.scalar(sa.select(Unit).where(Unit.id == unit_id))
    assert root is not None
    return list((await session.scalars(sa.select(Unit).where(Unit.path.startswith(root.path), Unit.is_active))).all())


async def _form_totals(session: AsyncSession, units: list[Unit], period: periods.Period) -> dict[str, dict[str, float]]:
    """Each form's total row for these units and period, as GET /stats/forms/{form} shows it."""
    out = {}
    for code in FORMS:
        form = forms.get_form(code)
        rows = forms.arrange(form, units, await forms.figures(session, form, units, period))
        out[code] = next(r.values for r in rows if r.type == "total")
    return out


async def _own_counts(
    session: AsyncSession, ids: list[int], period: periods.Period, cal: WorkCalendar
) -> dict[str, int]:
    """What no report form counts: processing on time, extensions, suspensions, repeat and level-skipping letters,
    matters overdue at the end of the period."""
    p = {"units": ids, "start": period.start, "end": period.end}
    processing = (
        await session.execute(
            sa.text(
                "SELECT t FROM cases c, jsonb_array_elements(c.timers) t WHERE c.receiving_unit_id = ANY(:units) "
                "AND c.processed_on BETWEEN :start AND :end AND t->>'name' = 'processing'"
            ),
            p,
        )
    ).scalars()
    on_time = late = 0
    for raw in processing:
        timer = Timer.from_dict(raw)
        if timer.completed_on is None:
            continue
        if timer.status(cal, timer.completed_on) is TimerStatus.met:
            on_time += 1
        else:
            late += 1
    row = (
        await session.execute(
            sa.text(
                """
                SELECT
                  (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
                   WHERE e.action = 'extend' AND e.effective_date BETWEEN :start AND :end
                     AND c.competent_unit_id = ANY(:units)),
                  (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
                   WHERE e.action = 'suspend' AND e.effective_date BETWEEN :start AND :end
                     AND c.competent_unit_id = ANY(:units)),
                  (SELECT coalesce(sum((t->>'paused_days')::int), 0) FROM cases c, jsonb_array_elements(c.timers) t
                   WHERE c.competent_unit_id = ANY(:units) AND t->>'name' = 'resolution'
                     AND c.accepted_on <= :end AND (c.settled_on IS NULL OR c.settled_on >= :start)),
                  (SELECT count(*) FROM case_facts WHERE receiving_unit_id = ANY(:units)
                     AND received_at BETWEEN :start AND :end AND repeat_of_case_id IS NOT NULL),
                  (SELECT count(*) FROM cases WHERE receiving_unit_id = ANY(:units)
                     AND received_at BETWEEN :start AND :end AND level_skipping),
                  (SELECT count(*) FROM case_facts WHERE competent_unit_id = ANY(:units) AND accepted_on <= :end
                     AND ((settled_on IS NULL AND next_due_date < :end)
                          OR (settled_on > :end AND coalesce(resolution_late, false))))
                """
            ),
            p,
        )
    ).one()
    extensions, suspensions, suspended_days, repeat, skipping, overdue = (int(v) for v in row)
    return {
        "letters_processed_on_time": on_time,
        "letters_processed_late": late,
        "extensions": extensions,
        "suspensions": suspensions,
        "suspended_days": suspended_days,
        "repeat_letters": repeat,
        "level_skipping_letters": skipping,
        "overdue_at_end": overdue,
    }


async def figures(
    session: AsyncSession, reader: Officer, inspection: Inspection, *, today: date, cal: WorkCalendar
) -> list[FigureOut]:
    """The evaluation's figures. `reader` must be able to read the unit's figures (an inspector, its own head)."""
    units = await _units(session, inspection.unit_id)
    ids = [u.id for u in units if u.id is not None]
    period = periods.Period(inspection.review_period, inspection.review_start, inspection.review_end)
    t = await _form_totals(session, units, period)
    own = await _own_counts(session, ids, period, cal)
    # The head's duty is set per calendar month (LTCD art. 12–18): the calendar months of the period under review.
    try:
        duty_period = periods.parse(inspection.review_period)
    except periods.PeriodError:
        duty_period = period
    duty, _ = await reception.compliance(
        session, reader, duty_period, unit_id=inspection.unit_id, today=today, limit=500, cursor=None
    )
    own_duty = next((d for d in duty if d["unit_id"] == inspection.unit_id), None)
    rating = await oversight.satisfaction(session, ids, period)
    earlier = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Recommendation)
        .where(
            Recommendation.unit_id == inspection.unit_id,
            Recommendation.inspection_id != inspection.id,
            recommendations.overdue_where(cal, today),
        )
    )
    u, label = inspection.unit_id, inspection.review_period
    start, end = period.start.isoformat(), period.end.isoformat()
    cases = _link("/cases", unit_id=u, include_subtree="true", received_from=start, received_to=end)
    links = {
        "cases": cases,
        "entries": _link("/reception-sessions/entries", unit_id=u, year=period.end.year),
        "overdue": _link("/cases", unit_id=u, include_subtree="true", overdue="true"),
        "skipping": _link(
            "/cases", unit_id=u, include_subtree="true", level_skipping="true", received_from=start, received_to=end
        ),  # fmt: skip
        "duty": _link("/reception-sessions/compliance", period=duty_period.label, unit_id=u),
        "recommendations": _link("/recommendations", unit_id=u, state="overdue"),
        **{c: _link(f"/stats/forms/{c}", period=label, unit_id=u) for c in FORMS},
    }
    out = []
    for key, text, code, column, link in FROM_FORMS:
        form = FORMS[code]
        number = next(col.number for col in form.columns if col.key == column)
        source = f"{form.official.removeprefix('Biểu số ')} cột {number}"
        out.append(FigureOut(key=key, label=text, value=t[code][column], source=source, link=links[link]))
    for key, text, link in OWN:
        out.append(FigureOut(key=key, label=text, value=own[key], source="hồ sơ", link=links[link]))
    for key, text, column in DUTY:
        value = own_duty[column] if own_duty else 0
        out.append(FigureOut(key=key, label=text, value=value, source="tiếp dân định kỳ", link=links["duty"]))
    return [
        *out,
        FigureOut(key="satisfaction_ratings", label="Lượt đánh giá của công dân", value=rating["ratings"],
                  source="đánh giá hài lòng", link=None),
        FigureOut(key="satisfaction_share_4_5", label="Tỷ lệ hài lòng (4–5 sao)", value=rating["share_4_5"],
                  source="đánh giá hài lòng", link=None),
        FigureOut(key="earlier_recommendations_overdue", label="Kiến nghị kiểm tra trước quá hạn chưa thực hiện",
                  value=int(earlier or 0), source="kiến nghị", link=links["recommendations"]),
    ]  # fmt: skip


async def reader_for(session: AsyncSession, officer: Officer, inspection: Inspection) -> Officer:
    """Who the figures are read as: the caller, who must see the unit's figures. The chief inspector reads every
    unit's counts as the inspectorate does (counts only; a unit head of the inspectorate has no subtree below)."""
    who = await access.actors(session, officer, inspection.unit_id)
    if Actor.inspector in who or Actor.inspected_head in who:
        return officer
    if Actor.chief in who:
        return replace(officer, roles=officer.roles | {"inspector"})
    raise DomainError(Code.inspection_forbidden)


async def plan_scale(
    session: AsyncSession, inspection: Inspection
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if inspection.plan_item_id is not None:
        plan = await session.scalar(
            sa.select(InspectionPlan)
            .join(InspectionPlanItem, InspectionPlanItem.plan_id == InspectionPlan.id)
            .where(InspectionPlanItem.id == inspection.plan_item_id)
        )
        if plan is not None:
            return plan.areas, plan.ratings
    return await plans.criteria(session)


def _findings(
    raw: list[dict[str, Any]], areas: list[dict[str, Any]], ratings: list[dict[str, Any]]
) -> list[FindingOut]:
    area = {a["code"]: a for a in areas}
    rate = {r["code"]: r for r in ratings}
    return [
        FindingOut(
            area=f["area"],
            area_label=area.get(f["area"], {}).get("label", f["area"]),
            rating=f["rating"],
            rating_label=rate.get(f["rating"], {}).get("label", f["rating"]),
            shortfall=bool(rate.get(f["rating"], {}).get("shortfall", False)),
            text=f.get("text", ""),
        )
        for f in raw
    ]


async def read(
    session: AsyncSession, officer: Officer, inspection_id: int, *, today: date, cal: WorkCalendar
) -> EvaluationOut:
    inspection = await conduct.load(session, officer, inspection_id)
    reader = await reader_for(session, officer, inspection)
    plans.review_ended(inspection.review_end, today)
    areas, ratings = await plan_scale(session, inspection)
    # The findings are the team's draft until the conclusion is signed: no one outside the inspectorate reads them.
    inspectorate = bool(await access.actors(session, officer) & {Actor.inspector, Actor.chief})
    shown = inspection.findings if inspectorate or inspection.status == InspectionStatus.concluded else []
    return EvaluationOut(
        inspection_id=inspection_id,
        unit_id=inspection.unit_id,
        review_period=inspection.review_period,
        review_start=inspection.review_start,
        review_end=inspection.review_end,
        figures=await figures(session, reader, inspection, today=today, cal=cal),
        findings=_findings(shown, areas, ratings),
        areas=areas,
        ratings=ratings,
    )


async def record_findings(
    session: AsyncSession, officer: Officer, inspection_id: int, data: EvaluationIn, *, today: date, cal: WorkCalendar
) -> EvaluationOut:
    """The inspector's findings per area, each rated on the plan's scale; while the inspection is in progress."""
    await access.require_inspector(session, officer)
    inspection = await conduct.load(session, officer, inspection_id, lock=True)
    if inspection.status != InspectionStatus.in_progress:
        raise DomainError(Code.inspection_action_not_allowed, details={"status": inspection.status, "allowed": []})
    plans.review_ended(inspection.review_end, today)
    areas, ratings = await plan_scale(session, inspection)
    area_codes, rating_codes = {a["code"] for a in areas}, {r["code"] for r in ratings}
    seen = set()
    for item in data.findings:
        if item.area not in area_codes or item.rating not in rating_codes or item.area in seen:
            raise DomainError(
                Code.unknown_criterion,
                details={
                    "area": item.area,
                    "rating": item.rating,
                    "areas": sorted(area_codes),
                    "ratings": sorted(rating_codes),
                },  # fmt: skip
            )
        seen.add(item.area)
    inspection.findings = [{"area": i.area, "rating": i.rating, "text": i.text} for i in data.findings]
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection",
        entity_id=inspection_id,
        action="findings",
        payload={"ratings": {i.area: i.rating for i in data.findings}},
    )
    await session.commit()
    return await read(session, officer, inspection_id, today=today, cal=cal)
