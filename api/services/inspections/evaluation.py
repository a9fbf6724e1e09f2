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
from api.services.inspections import access, conduct, plans
from api.services.stats import forms, oversight
from workflows import periods
from workflows.calendar import WorkCalendar
from workflows.deadlines import Timer, TimerStatus
from workflows.inspections import Actor, InspectionStatus

V1 = "/api/v1"


def _link(path: str, **query: Any) -> str:
    return f"{V1}{path}?" + urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)


async def _units(session: AsyncSession, unit_id: int) -> list[Unit]:
    root = await session.scalar(sa.select(Unit).where(Unit.id == unit_id))
    assert root is not None
    return list((await session.scalars(sa.select(Unit).where(Unit.path.startswith(root.path), Unit.is_active))).all())


async def _form_totals(session: AsyncSession, units: list[Unit], period: periods.Period) -> dict[str, dict[str, float]]:
    """Each form's total row for these units and period, as GET /stats/forms/{form} shows it."""
    out = {}
    for code in ("tcd", "xld", "gqkn", "gqtc", "kqth"):
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
        "processed_on_time": on_time,
        "processed_late": late,
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
            Recommendation.status != "done",
            Recommendation.deadline < today,
        )
    )
    u, label = inspection.unit_id, inspection.review_period
    start, end = period.start.isoformat(), period.end.isoformat()
    form = {c: _link(f"/stats/forms/{c}", period=label, unit_id=u) for c in ("tcd", "xld", "gqkn", "gqtc", "kqth")}
    cases = _link("/cases", unit_id=u, include_subtree="true", received_from=start, received_to=end)
    entries = _link("/reception-sessions/entries", unit_id=u, year=period.end.year)
    compliance = _link("/reception-sessions/compliance", period=duty_period.label, unit_id=u)
    x, k, c, e, r = t["xld"], t["gqkn"], t["gqtc"], t["kqth"], t["tcd"]

    def f(key: str, label: str, value: float | int | None, source: str, link: str | None) -> FigureOut:
        return FigureOut(key=key, label=label, value=value, source=source, link=link)

    return [
        f("letters_carried", "Đơn kỳ trước chuyển sang", x["carried"], "02/XLD cột 2", form["xld"]),
        f("letters_received", "Đơn tiếp nhận trong kỳ", x["received"], "02/XLD cột 3", cases),
        f("letters_processed", "Đơn đã xử lý", x["processed"], "02/XLD cột 4", form["xld"]),
        f("letters_processed_on_time", "Đơn xử lý đúng hạn", own["processed_on_time"], "hồ sơ", cases),
        f("letters_processed_late", "Đơn xử lý quá hạn", own["processed_late"], "hồ sơ", cases),
        f("letters_eligible", "Đơn đủ điều kiện xử lý", x["eligible_letters"], "02/XLD cột 6", form["xld"]),
        f("complaints_accepted", "Khiếu nại thụ lý mới", k["new"], "03/GQKN cột 3", form["gqkn"]),
        f("complaints_settled", "Khiếu nại đã giải quyết", k["settled"], "03/GQKN cột 4", form["gqkn"]),
        f("complaints_on_time", "Khiếu nại giải quyết đúng hạn", k["on_time"], "03/GQKN cột 23", form["gqkn"]),
        f("complaints_late", "Khiếu nại giải quyết quá hạn", k["late"], "03/GQKN cột 24", form["gqkn"]),
        f("complaints_backlog", "Khiếu nại chưa giải quyết xong", k["pending"], "03/GQKN cột 25", form["gqkn"]),
        f("denunciations_accepted", "Tố cáo thụ lý mới", c["new"], "04/GQTC cột 3", form["gqtc"]),
        f("denunciations_settled", "Tố cáo đã giải quyết", c["settled"], "04/GQTC cột 5", form["gqtc"]),
        f("denunciations_on_time", "Tố cáo giải quyết đúng hạn", c["on_time"], "04/GQTC cột 22", form["gqtc"]),
        f("denunciations_late", "Tố cáo giải quyết quá hạn", c["late"], "04/GQTC cột 23", form["gqtc"]),
        f("denunciations_backlog", "Tố cáo chưa giải quyết xong", c["pending"], "04/GQTC cột 24", form["gqtc"]),
        f(
            "overdue_at_end",
            "Vụ việc quá hạn cuối kỳ",
            own["overdue_at_end"],
            "hồ sơ",
            _link("/cases", unit_id=u, include_subtree="true", overdue="true"),
        ),  # fmt: skip
        f("extensions", "Số lần gia hạn giải quyết", own["extensions"], "hồ sơ", cases),
        f("suspensions", "Số lần tạm đình chỉ", own["suspensions"], "hồ sơ", cases),
        f("suspended_days", "Số ngày tạm đình chỉ", own["suspended_days"], "hồ sơ", cases),
        f(
            "second_round_changed",
            "Quyết định lần đầu bị hủy, sửa ở lần hai",
            k["second_changed"],
            "03/GQKN cột 12",
            form["gqkn"],
        ),  # fmt: skip
        f("further_denunciations", "Tố cáo tiếp", c["repeat"], "04/GQTC cột 4", form["gqtc"]),
        f("repeat_letters", "Đơn trùng, tái diễn", own["repeat_letters"], "hồ sơ", cases),
        f(
            "level_skipping_letters",
            "Đơn vượt cấp",
            own["level_skipping_letters"],
            "hồ sơ",
            _link(
                "/cases", unit_id=u, include_subtree="true", level_skipping="true", received_from=start, received_to=end
            ),
        ),  # fmt: skip
        f("decisions_to_enforce", "Quyết định, kết luận phải thực hiện", e["total"], "05/KQTH cột 1", form["kqth"]),
        f(
            "decisions_enforced", "Quyết định, kết luận đã thực hiện xong", e["enforced"], "05/KQTH cột 4", form["kqth"]
        ),  # fmt: skip
        f("register_visits", "Lượt tiếp công dân (sổ tiếp)", r["total_visits"], "01/TCD cột 1", entries),
        f("register_matters", "Vụ việc tiếp công dân", r["total_matters"], "01/TCD cột 3", entries),
        f("head_sessions", "Kỳ tiếp của thủ trưởng (trực tiếp)", r["head_sessions"], "01/TCD cột 12", form["tcd"]),
        f("delegated_sessions", "Kỳ tiếp ủy quyền", r["del_sessions"], "01/TCD cột 21", form["tcd"]),
        f(
            "reception_days_required",
            "Ngày tiếp định kỳ phải tiếp",
            own_duty["required_days"] if own_duty else 0,
            "tiếp dân định kỳ",
            compliance,
        ),  # fmt: skip
        f(
            "reception_days_in_person",
            "Ngày thủ trưởng trực tiếp tiếp",
            own_duty["in_person_days"] if own_duty else 0,
            "tiếp dân định kỳ",
            compliance,
        ),  # fmt: skip
        f(
            "reception_days_delegated",
            "Ngày ủy quyền tiếp",
            own_duty["delegated_days"] if own_duty else 0,
            "tiếp dân định kỳ",
            compliance,
        ),  # fmt: skip
        f(
            "reception_shortfall",
            "Ngày tiếp còn thiếu",
            own_duty["shortfall"] if own_duty else 0,
            "tiếp dân định kỳ",
            compliance,
        ),  # fmt: skip
        f("satisfaction_ratings", "Lượt đánh giá của công dân", rating["ratings"], "đánh giá hài lòng", None),
        f("satisfaction_share_4_5", "Tỷ lệ hài lòng (4–5 sao)", rating["share_4_5"], "đánh giá hài lòng", None),
        f(
            "earlier_recommendations_overdue",
            "Kiến nghị kiểm tra trước quá hạn chưa thực hiện",
            int(earlier or 0),
            "kiến nghị",
            _link("/recommendations", unit_id=u, state="overdue"),
        ),  # fmt: skip
    ]


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
    areas, ratings = await plan_scale(session, inspection)
    return EvaluationOut(
        inspection_id=inspection_id,
        unit_id=inspection.unit_id,
        review_period=inspection.review_period,
        review_start=inspection.review_start,
        review_end=inspection.review_end,
        figures=await figures(session, reader, inspection, today=today, cal=cal),
        findings=_findings(inspection.findings, areas, ratings),
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
