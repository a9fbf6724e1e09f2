"""The pre-filled evaluation of an inspected unit for its period under review: the figures an inspector would count
by hand, each taken from the statistics services for the same unit (and the units below it) and period — the report
forms (`stats.forms`: 01/TCD … 05/KQTH, so each figure equals the form's total row), citizens' satisfaction
(`stats.oversight`), the head's reception duty (`reception.duty`) — and counted here only where no form counts it
(letters processed on time, extensions and suspensions, repeat and level-skipping letters, matters overdue at the
end, recommendations of earlier inspections overdue). Each figure carries the API path (with filters) of the cases,
entries or form behind it. Counts only: no name, title or content. Then the findings per area, rated on the plan's
scale."""

import hashlib
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
from api.services import audit, reception
from api.services.inspections import access, conduct, counts, plans, recommendations, snapshot
from api.services.stats import accused as stats_accused
from api.services.stats import oversight
from workflows import periods
from workflows.calendar import WorkCalendar
from workflows.forms import FORMS
from workflows.inspections import Actor, InspectionStatus

V1 = "/api/v1"

# The figures a report form gives, as its total row for the unit and period: (key, label, form, column).
FROM_FORMS: tuple[tuple[str, str, str, str], ...] = (
    ("letters_carried", "Đơn kỳ trước chuyển sang", "xld", "carried"),
    ("letters_received", "Đơn tiếp nhận trong kỳ", "xld", "received"),
    ("letters_processed", "Đơn đã xử lý", "xld", "processed"),
    ("letters_eligible", "Đơn đủ điều kiện xử lý", "xld", "eligible_letters"),
    ("complaints_accepted", "Khiếu nại thụ lý mới", "gqkn", "new"),
    ("complaints_settled", "Khiếu nại đã giải quyết", "gqkn", "settled"),
    ("complaints_on_time", "Khiếu nại giải quyết đúng hạn", "gqkn", "on_time"),
    ("complaints_late", "Khiếu nại giải quyết quá hạn", "gqkn", "late"),
    ("complaints_backlog", "Khiếu nại chưa giải quyết xong", "gqkn", "pending"),
    ("second_round_changed", "Quyết định lần đầu bị hủy, sửa ở lần hai", "gqkn", "second_changed"),
    ("denunciations_accepted", "Tố cáo thụ lý mới", "gqtc", "new"),
    ("denunciations_settled", "Tố cáo đã giải quyết", "gqtc", "settled"),
    ("denunciations_on_time", "Tố cáo giải quyết đúng hạn", "gqtc", "on_time"),
    ("denunciations_late", "Tố cáo giải quyết quá hạn", "gqtc", "late"),
    ("denunciations_backlog", "Tố cáo chưa giải quyết xong", "gqtc", "pending"),
    ("further_denunciations", "Tố cáo tiếp", "gqtc", "repeat"),
    ("decisions_to_enforce", "Quyết định, kết luận phải thực hiện", "kqth", "total"),
    ("decisions_enforced", "Quyết định, kết luận đã thực hiện xong", "kqth", "enforced"),
    ("register_visits", "Lượt tiếp công dân (sổ tiếp)", "tcd", "total_visits"),
    ("register_matters", "Vụ việc tiếp công dân", "tcd", "total_matters"),
    ("head_sessions", "Kỳ tiếp của thủ trưởng (trực tiếp)", "tcd", "head_sessions"),
    ("delegated_sessions", "Kỳ tiếp ủy quyền", "tcd", "del_sessions"),
)
# The figures no form counts, counted here (`counts.own_counts`): (key, label).
OWN: tuple[tuple[str, str], ...] = (
    ("letters_processed_on_time", "Đơn xử lý đúng hạn"),
    ("letters_processed_late", "Đơn xử lý quá hạn"),
    ("overdue_at_end", "Vụ việc quá hạn cuối kỳ"),
    ("extensions", "Số lần gia hạn giải quyết"),
    ("suspensions", "Số lần tạm đình chỉ"),
    ("suspended_days", "Số ngày tạm đình chỉ (ngày lịch, trong kỳ)"),
    ("repeat_letters", "Đơn trùng, tái diễn"),
    ("level_skipping_letters", "Đơn vượt cấp"),
)
# The head's reception duty (reception.duty.compliance): (key, label, its field).
DUTY: tuple[tuple[str, str, str], ...] = (
    ("reception_days_required", "Ngày tiếp định kỳ phải tiếp", "required_days"),
    ("reception_days_in_person", "Ngày thủ trưởng trực tiếp tiếp", "in_person_days"),
    ("reception_days_delegated", "Ngày ủy quyền tiếp", "delegated_days"),
    ("reception_shortfall", "Ngày tiếp còn thiếu", "shortfall"),
)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _link(path: str, **query: Any) -> str:
    return f"{V1}{path}?" + urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)


async def figures(
    session: AsyncSession,
    reader: Officer,
    inspection: Inspection,
    *,
    today: date,
    cal: WorkCalendar,
    hide: stats_accused.Hidden | None = None,
) -> list[FigureOut]:
    """The evaluation's figures, each with the window it counts (`start`, `end`). `link` lists exactly the items
    counted, or is null where no list of the API reproduces the count (the cases list filters by competent unit and
    date received, the register by calendar year); `source_link` is the form or report the figure is read from.
    `reader` must be able to read the unit's figures (an inspector, its own head). Complete (the record a snapshot
    and a conclusion keep), or as a reader named as accused may see them (`hide`: without the cases naming them)."""
    units = await counts.units_of(session, inspection.unit_id)
    ids = [u.id for u in units if u.id is not None]
    period = periods.Period(inspection.review_period, inspection.review_start, inspection.review_end)
    t = await counts.form_totals(session, units, period, hide)
    own = await counts.own_counts(session, ids, period, cal, hide)
    # The head's duty is set per calendar month (LTCD art. 12–18): the calendar months of the period under review,
    # a window of its own, stated on each of these figures.
    try:
        duty_period = periods.parse(inspection.review_period)
    except periods.PeriodError:
        duty_period = period
    duty, _ = await reception.compliance(
        session, reader, duty_period, unit_id=inspection.unit_id, today=today, limit=500, cursor=None
    )
    own_duty = next((d for d in duty if d["unit_id"] == inspection.unit_id), None)
    rating = await oversight.satisfaction(session, ids, period, hide)
    earlier = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Recommendation)
        .where(
            Recommendation.unit_id == inspection.unit_id,
            Recommendation.inspection_id != inspection.id,
            recommendations.overdue_where(cal, today),
        )
    )
    own_recs = await session.scalar(sa.select(sa.func.count()).where(Recommendation.inspection_id == inspection.id))
    u, label = inspection.unit_id, inspection.review_period
    window = {"start": period.start, "end": period.end}
    duty_window = {"start": duty_period.start, "end": duty_period.end}
    duty_text = f" (tháng {duty_period.start:%m/%Y} – {duty_period.end:%m/%Y})"
    out = []
    for key, text, code, column in FROM_FORMS:
        form = FORMS[code]
        number = next(col.number for col in form.columns if col.key == column)
        source = f"{form.official.removeprefix('Biểu số ')} cột {number}"
        form_link = _link(f"/stats/forms/{code}", period=label, unit_id=u)
        out.append(FigureOut(key=key, label=text, value=t[code][column], source=source, link=None,
                             source_link=form_link, **window))  # fmt: skip
    for key, text in OWN:
        out.append(FigureOut(key=key, label=text, value=own[key], source="hồ sơ", link=None, **window))
    duty_link = _link("/reception-sessions/compliance", period=duty_period.label, unit_id=u)
    for key, text, column in DUTY:
        value = own_duty[column] if own_duty else 0
        out.append(FigureOut(key=key, label=text + duty_text, value=value, source="tiếp dân định kỳ", link=None,
                             source_link=duty_link, **duty_window))  # fmt: skip
    # The watch-list lists the unit's overdue recommendations, this inspection's too: exact while it has none.
    rec_link = _link("/recommendations", unit_id=u, state="overdue") if not own_recs else None
    return [
        *out,
        FigureOut(key="satisfaction_ratings", label="Lượt đánh giá của công dân", value=rating["ratings"],
                  source="đánh giá hài lòng", link=None, **window),
        FigureOut(key="satisfaction_share_4_5", label="Tỷ lệ hài lòng (4–5 sao)", value=rating["share_4_5"],
                  source="đánh giá hài lòng", link=None, **window),
        FigureOut(key="earlier_recommendations_overdue", label="Kiến nghị kiểm tra trước quá hạn chưa thực hiện",
                  value=int(earlier or 0), source="kiến nghị", link=rec_link, start=None, end=today),
    ]  # fmt: skip


async def under_review(
    session: AsyncSession,
    officer: Officer,
    inspection: Inspection,
    reader: Officer,
    *,
    today: date,
    cal: WorkCalendar,
    commit: bool = True,
    hide: stats_accused.Hidden | None = None,
) -> tuple[list[FigureOut], list[dict[str, Any]], date | None]:
    """The figures as they stood when the inspection started (taken then, or at the first reading once the period
    has ended), with every change of the live counts since; before the start, the live counts. The live counts of a
    reader named as accused (`hide`) leave out the cases naming them; the snapshot is always taken complete."""
    live = await figures(session, reader, inspection, today=today, cal=cal, hide=hide)
    if inspection.status not in (InspectionStatus.in_progress, InspectionStatus.concluded):
        return live, [], None
    snap = await snapshot.latest(session, inspection.id or 0)
    if snap is None:
        complete = live if hide is None else await figures(session, reader, inspection, today=today, cal=cal)
        snap = snapshot.record(session, officer.id, inspection.id or 0, complete, today)
        if commit:  # signing commits it with the conclusion, under its locks
            await session.commit()
    shown, changes = snapshot.apply(live, snap)
    return shown, changes, date.fromisoformat(snap["taken_on"])


async def take_snapshot(
    session: AsyncSession, officer: Officer, inspection: Inspection, *, today: date, cal: WorkCalendar
) -> None:
    """At the start: keep the figures under review, if the period has ended (else at the first reading after)."""
    if inspection.review_end < today and inspection.status == InspectionStatus.in_progress:
        await under_review(session, officer, inspection, await reader_for(session, officer, inspection), today=today,
                           cal=cal)  # fmt: skip


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
    hide = await stats_accused.of(session, officer)  # named as accused: live counts without the cases naming them
    figs, changes, taken_on = await under_review(session, officer, inspection, reader, today=today, cal=cal, hide=hide)
    return EvaluationOut(
        inspection_id=inspection_id,
        unit_id=inspection.unit_id,
        review_period=inspection.review_period,
        review_start=inspection.review_start,
        review_end=inspection.review_end,
        figures=figs,
        snapshot_on=taken_on,
        changed_since_snapshot=changes,
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
    before = {f["area"]: f for f in inspection.findings}
    inspection.findings = [{"area": i.area, "rating": i.rating, "text": i.text} for i in data.findings]
    audit.record(
        session,
        actor_id=officer.id,
        entity="inspection",
        entity_id=inspection_id,
        action="findings",
        payload={
            "ratings": {i.area: i.rating for i in data.findings},
            "text_sha256": {i.area: _sha256(i.text) for i in data.findings},
            # what the replaced findings said: their ratings and the digests of their texts
            "replaced": {
                a: {"rating": f["rating"], "text_sha256": _sha256(f.get("text", ""))} for a, f in before.items()
            },
        },
    )
    await session.commit()
    return await read(session, officer, inspection_id, today=today, cal=cal)
