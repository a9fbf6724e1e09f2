"""Thanh tra tỉnh's own work (plan 13/KH-UBND section IV.5; DESIGN.md, HTTP surface): `/inspection-plans` (approval
and amendments), `/inspections` (the course, the pre-filled evaluation and findings, the conclusion and its
signature), `/recommendations` (the timers, the units' reports, the inspector's decision, urging) and the six-month
and annual report to Sở Nội vụ at `/stats/inspectorate-report` (JSON, XLSX, PDF; submitted and frozen, with a
diff). Inspectors plan, conduct and conclude; the chief inspector (the `unit_head` of the inspectorate's unit)
approves and signs; the inspected unit's head reads their own and reports; Sở Nội vụ reads the submitted reports."""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status

from api import clock, errors, http_errors
from api.deps import Ctx
from api.models.inspections import (
    AmendmentIn,
    AmendmentOut,
    CancelIn,
    ConclusionIn,
    ConclusionOut,
    DecideIn,
    DecisionIn,
    EvaluationIn,
    EvaluationOut,
    InspectionIn,
    InspectionOut,
    InspectorateDiffOut,
    InspectorateReportOut,
    InspectorateSubmissionIn,
    PlanIn,
    PlanOut,
    PlanSummaryOut,
    RecommendationOut,
    RecommendationReportOut,
    ReportDecisionIn,
    ReportIn,
    StartIn,
    UrgeRecommendationsIn,
)
from api.pagination import Page
from api.routers.params import CursorQuery, LimitQuery
from api.services.inspections import (
    conclusions,
    conduct,
    documents,
    evaluation,
    plans,
    recommendations,
    report,
)
from api.types import Id32

router = APIRouter(tags=["inspections"])
FORMATS = ("json", "xlsx", "pdf")
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
FormatQuery = Annotated[str, Query(max_length=8, description="json, xlsx hoặc pdf")]


# ---- plans ----


@router.post(
    "/inspection-plans",
    response_model=PlanOut,
    status_code=status.HTTP_201_CREATED,
    summary="Lập kế hoạch kiểm tra năm (dự thảo)",
    responses=http_errors.responses(403, 404, 422),
)
async def create_plan(data: PlanIn, ctx: Ctx) -> PlanOut:
    plan = await plans.create(ctx.session, ctx.officer, data)
    return await plans.present(ctx.session, plan)


@router.get(
    "/inspection-plans",
    response_model=Page[PlanSummaryOut],
    summary="Danh sách kế hoạch kiểm tra",
    responses=http_errors.responses(403, 422),
)
async def list_plans(
    ctx: Ctx,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status_: Annotated[Literal["draft", "approved"] | None, Query(alias="status")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[PlanSummaryOut]:
    items, next_cursor = await plans.list_plans(
        ctx.session, ctx.officer, year=year, status=status_, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/inspection-plans/{plan_id}",
    response_model=PlanOut,
    summary="Một kế hoạch kiểm tra: đơn vị, kỳ kiểm tra, tháng dự kiến, các lần điều chỉnh",
    responses=http_errors.responses(403, 404),
)
async def get_plan(plan_id: Id32, ctx: Ctx) -> PlanOut:
    return await plans.present(ctx.session, await plans.load(ctx.session, ctx.officer, plan_id))


@router.post(
    "/inspection-plans/{plan_id}/approve",
    response_model=PlanOut,
    summary="Chánh Thanh tra phê duyệt kế hoạch (số, ngày quyết định)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def approve_plan(plan_id: Id32, data: DecisionIn, ctx: Ctx) -> PlanOut:
    plan = await plans.approve(ctx.session, ctx.officer, plan_id, data, today=clock.today())
    return await plans.present(ctx.session, plan)


@router.post(
    "/inspection-plans/{plan_id}/amendments",
    response_model=AmendmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Điều chỉnh kế hoạch đã phê duyệt (quyết định điều chỉnh)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def amend_plan(plan_id: Id32, data: AmendmentIn, ctx: Ctx) -> AmendmentOut:
    a = await plans.amend(ctx.session, ctx.officer, plan_id, data, today=clock.today())
    return AmendmentOut(
        id=a.id or 0,
        decision_number=a.decision_number,
        decision_date=a.decision_date,
        reason=a.reason,
        changes=a.changes,
        decided_by_id=a.decided_by_id,
    )


# ---- inspections ----


async def _one(ctx: Ctx, inspection: Any) -> InspectionOut:
    return (await conduct.present(ctx.session, ctx.officer, [inspection]))[0]


@router.post(
    "/inspections",
    response_model=InspectionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Tạo cuộc kiểm tra (từ kế hoạch, hoặc ngoài kế hoạch)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def create_inspection(data: InspectionIn, ctx: Ctx) -> InspectionOut:
    return await _one(ctx, await conduct.create(ctx.session, ctx.officer, data, today=clock.today()))


@router.get(
    "/inspections",
    response_model=Page[InspectionOut],
    summary="Danh sách cuộc kiểm tra (đơn vị được kiểm tra chỉ thấy của mình)",
    responses=http_errors.responses(403, 422),
)
async def list_inspections(
    ctx: Ctx,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status_: Annotated[
        list[Literal["planned", "decided", "in_progress", "concluded", "cancelled"]] | None, Query(alias="status")
    ] = None,
    unit_id: Id32 | None = None,
    plan_id: Id32 | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[InspectionOut]:
    rows, next_cursor = await conduct.list_inspections(
        ctx.session,
        ctx.officer,
        year=year,
        status=list(status_) if status_ else None,
        unit_id=unit_id,
        plan_id=plan_id,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=await conduct.present(ctx.session, ctx.officer, rows), next_cursor=next_cursor)


@router.get(
    "/inspections/{inspection_id}",
    response_model=InspectionOut,
    summary="Một cuộc kiểm tra",
    responses=http_errors.responses(403, 404),
)
async def get_inspection(inspection_id: Id32, ctx: Ctx) -> InspectionOut:
    return await _one(ctx, await conduct.load(ctx.session, ctx.officer, inspection_id))


@router.post(
    "/inspections/{inspection_id}/decision",
    response_model=InspectionOut,
    summary="Quyết định thành lập đoàn kiểm tra (số, ngày, thành viên)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def decide_inspection(inspection_id: Id32, data: DecideIn, ctx: Ctx) -> InspectionOut:
    return await _one(ctx, await conduct.decide(ctx.session, ctx.officer, inspection_id, data, today=clock.today()))


@router.post(
    "/inspections/{inspection_id}/start",
    response_model=InspectionOut,
    summary="Bắt đầu kiểm tra (công bố quyết định)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def start_inspection(inspection_id: Id32, data: StartIn, ctx: Ctx) -> InspectionOut:
    inspection = await conduct.start(ctx.session, ctx.officer, inspection_id, data, today=clock.today())
    await evaluation.take_snapshot(ctx.session, ctx.officer, inspection, today=clock.today(), cal=ctx.env.cal)
    return await _one(ctx, inspection)


@router.post(
    "/inspections/{inspection_id}/cancel",
    response_model=InspectionOut,
    summary="Hủy cuộc kiểm tra (có lý do)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def cancel_inspection(inspection_id: Id32, data: CancelIn, ctx: Ctx) -> InspectionOut:
    return await _one(ctx, await conduct.cancel(ctx.session, ctx.officer, inspection_id, data))


@router.get(
    "/inspections/{inspection_id}/evaluation",
    response_model=EvaluationOut,
    summary="Đánh giá điền sẵn từ dữ liệu: số liệu của đơn vị trong kỳ kiểm tra (chỉ số đếm) và kết quả đánh giá",
    description="Each figure equals the report form's total row for the unit (and the units below it) and the "
    "period under review and states its window (start, end); `link` lists exactly the items counted or is null "
    "(`source_link`: the form). Once the inspection has started the figures are those kept at its start, with "
    "`changed_since_snapshot`. Findings are hidden outside the inspectorate until the conclusion is signed. "
    "422 `review_period_not_ended` before the period under review is over. No identity appears.",
    responses=http_errors.responses(403, 404, 422),
)
async def get_evaluation(inspection_id: Id32, ctx: Ctx) -> EvaluationOut:
    return await evaluation.read(ctx.session, ctx.officer, inspection_id, today=clock.today(), cal=ctx.env.cal)


@router.put(
    "/inspections/{inspection_id}/evaluation",
    response_model=EvaluationOut,
    summary="Ghi kết quả đánh giá theo từng nội dung (mức đánh giá theo thang của kế hoạch)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def put_evaluation(inspection_id: Id32, data: EvaluationIn, ctx: Ctx) -> EvaluationOut:
    return await evaluation.record_findings(
        ctx.session, ctx.officer, inspection_id, data, today=clock.today(), cal=ctx.env.cal
    )


async def _conclusion(ctx: Ctx, inspection_id: int) -> ConclusionOut:
    return await conclusions.read(
        ctx.session,
        ctx.officer,
        inspection_id,
        today=clock.today(),
        cal=ctx.env.cal,
        threshold=ctx.settings.due_soon_working_days,
    )


@router.put(
    "/inspections/{inspection_id}/conclusion",
    response_model=ConclusionOut,
    summary="Dự thảo kết luận kiểm tra và các kiến nghị (thay thế được cho đến khi ký)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def draft_conclusion(inspection_id: Id32, data: ConclusionIn, ctx: Ctx) -> ConclusionOut:
    await conclusions.draft(ctx.session, ctx.officer, inspection_id, data, today=clock.today())
    return await _conclusion(ctx, inspection_id)


@router.post(
    "/inspections/{inspection_id}/conclusion/sign",
    response_model=ConclusionOut,
    summary="Chánh Thanh tra ký ban hành kết luận (một lần; kiến nghị bắt đầu tính hạn)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def sign_conclusion(inspection_id: Id32, ctx: Ctx) -> ConclusionOut:
    await conclusions.sign(ctx.session, ctx.officer, inspection_id, today=clock.today(), cal=ctx.env.cal)
    return await _conclusion(ctx, inspection_id)


@router.get(
    "/inspections/{inspection_id}/conclusion",
    response_model=ConclusionOut,
    summary="Kết luận kiểm tra và các kiến nghị",
    responses=http_errors.responses(403, 404),
)
async def get_conclusion(inspection_id: Id32, ctx: Ctx) -> ConclusionOut:
    return await _conclusion(ctx, inspection_id)


# ---- recommendations ----


async def _recs(ctx: Ctx, rows: list[Any]) -> list[RecommendationOut]:
    return await recommendations.present(
        ctx.session, rows, today=clock.today(), cal=ctx.env.cal, threshold=ctx.settings.due_soon_working_days
    )


@router.get(
    "/recommendations",
    response_model=Page[RecommendationOut],
    summary="Kiến nghị: hạn gần nhất trước; state=overdue là danh sách kiến nghị quá hạn cần theo dõi",
    responses=http_errors.responses(403, 422),
)
async def list_recommendations(
    ctx: Ctx,
    unit_id: Id32 | None = None,
    inspection_id: Id32 | None = None,
    status_: Annotated[Literal["open", "reported", "done"] | None, Query(alias="status")] = None,
    state: Annotated[Literal["due_soon", "overdue"] | None, Query()] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[RecommendationOut]:
    rows, next_cursor = await recommendations.list_recommendations(
        ctx.session,
        ctx.officer,
        unit_id=unit_id,
        inspection_id=inspection_id,
        status=status_,
        state=state,
        today=clock.today(),
        cal=ctx.env.cal,
        threshold=ctx.settings.due_soon_working_days,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=await _recs(ctx, rows), next_cursor=next_cursor)


@router.post(
    "/recommendations/urge",
    summary="Đôn đốc đơn vị thực hiện các kiến nghị quá hạn",
    responses=http_errors.responses(403, 422),
)
async def urge_recommendations(data: UrgeRecommendationsIn, ctx: Ctx) -> dict[str, Any]:
    ids = await recommendations.urge(
        ctx.session,
        ctx.officer,
        data.unit_id,
        data.recommendation_ids,
        data.reason,
        today=clock.today(),
        cal=ctx.env.cal,
    )
    return {"urged": len(ids), "recommendation_ids": ids}


@router.get(
    "/recommendations/{rec_id}",
    response_model=RecommendationOut,
    summary="Một kiến nghị và thời hạn của nó",
    responses=http_errors.responses(403, 404),
)
async def get_recommendation(rec_id: Id32, ctx: Ctx) -> RecommendationOut:
    return (await _recs(ctx, [await recommendations.load(ctx.session, ctx.officer, rec_id)]))[0]


def _report_out(r: Any) -> RecommendationReportOut:
    return RecommendationReportOut(
        id=r.id,
        recommendation_id=r.recommendation_id,
        done_on=r.done_on,
        document_ref=r.document_ref,
        text=r.text,
        reported_by_id=r.reported_by_id,
        decision=r.decision,
        decision_note=r.decision_note,
        decided_by_id=r.decided_by_id,
        decided_on=r.decided_on,
    )


@router.post(
    "/recommendations/{rec_id}/reports",
    response_model=RecommendationReportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Thủ trưởng đơn vị báo cáo kết quả thực hiện kiến nghị (ngày, số văn bản)",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def report_recommendation(rec_id: Id32, data: ReportIn, ctx: Ctx) -> RecommendationReportOut:
    return _report_out(await recommendations.report(ctx.session, ctx.officer, rec_id, data, today=clock.today()))


@router.get(
    "/recommendations/{rec_id}/reports",
    response_model=Page[RecommendationReportOut],
    summary="Các báo cáo thực hiện kiến nghị",
    responses=http_errors.responses(403, 404, 422),
)
async def list_recommendation_reports(
    rec_id: Id32, ctx: Ctx, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[RecommendationReportOut]:
    rows, next_cursor = await recommendations.reports(ctx.session, ctx.officer, rec_id, limit=limit, cursor=cursor)
    return Page(items=[_report_out(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/recommendations/{rec_id}/reports/{rec_report_id}/decision",
    response_model=RecommendationReportOut,
    summary="Thanh tra chấp nhận (hoàn thành) hoặc không chấp nhận báo cáo thực hiện kiến nghị",
    responses=http_errors.responses(403, 404, 409, 422),
)
async def decide_recommendation_report(
    rec_id: Id32, rec_report_id: Id32, data: ReportDecisionIn, ctx: Ctx
) -> RecommendationReportOut:
    row = await recommendations.decide(ctx.session, ctx.officer, rec_id, rec_report_id, data, today=clock.today())
    return _report_out(row)


# ---- the report to Sở Nội vụ ----


def _document(doc: dict[str, Any], fmt: str, name: str) -> Response:
    if fmt not in FORMATS:
        raise errors.DomainError(errors.Code.unsupported_format, details={"field": "format", "allowed": list(FORMATS)})
    if fmt == "json":
        return Response(json.dumps(doc, ensure_ascii=False), media_type="application/json")
    body = documents.to_xlsx(doc) if fmt == "xlsx" else documents.to_pdf(doc)
    return Response(
        body, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )


@router.get(
    "/stats/inspectorate-report",
    summary="Báo cáo 6 tháng, năm của Thanh tra tỉnh gửi Sở Nội vụ (số liệu hiện tại)",
    description="`period` YYYY-H1 or YYYY (statutory cut-offs); `format` json, xlsx or pdf.",
    responses={200: {"content": {MEDIA["xlsx"]: {}, MEDIA["pdf"]: {}}}, **http_errors.responses(403, 415, 422)},
)
async def inspectorate_report(
    ctx: Ctx,
    period: Annotated[str, Query(max_length=16)],
    format: FormatQuery = "json",  # noqa: A002
) -> Response:
    p = report.parse_period(period)
    doc = await report.live(ctx.session, ctx.officer, p, clock.today(), ctx.env.cal)
    return _document(doc, format, f"bao-cao-thanh-tra_{p.label}")


@router.post(
    "/stats/inspectorate-report/submissions",
    response_model=InspectorateReportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Chánh Thanh tra gửi (chốt) báo cáo kỳ cho Sở Nội vụ",
    responses=http_errors.responses(403, 409, 422),
)
async def submit_inspectorate_report(data: InspectorateSubmissionIn, ctx: Ctx) -> InspectorateReportOut:
    p = report.parse_period(data.period)
    row = await report.submit(ctx.session, ctx.officer, p, clock.today(), ctx.env.cal, provisional=data.provisional)
    return _submitted(row)


def _submitted(row: Any) -> InspectorateReportOut:
    return InspectorateReportOut(
        id=row.id,
        period=row.period,
        start=row.start,
        end=row.end,
        submitted_by_id=row.submitted_by_id,
        submitted_at=row.submitted_at,
        provisional=bool(row.figures.get("provisional")),
        due_date=row.figures.get("due_date"),
        late=row.figures.get("late"),
        figures=row.figures,
    )


@router.get(
    "/stats/inspectorate-report/submissions",
    response_model=Page[InspectorateReportOut],
    summary="Các báo cáo đã gửi Sở Nội vụ",
    responses=http_errors.responses(403, 422),
)
async def list_inspectorate_reports(
    ctx: Ctx, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[InspectorateReportOut]:
    rows, next_cursor = await report.list_reports(
        ctx.session, ctx.officer, ctx.settings.inspectorate_report_recipient, limit=limit, cursor=cursor
    )
    return Page(items=[_submitted(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/stats/inspectorate-report/submissions/{submission_id}",
    summary="Một báo cáo đã gửi (json, xlsx, pdf)",
    responses={200: {"content": {MEDIA["xlsx"]: {}, MEDIA["pdf"]: {}}}, **http_errors.responses(403, 404, 415)},
)
async def get_inspectorate_report(submission_id: Id32, ctx: Ctx, format: FormatQuery = "json") -> Response:  # noqa: A002
    row = await report.get(ctx.session, ctx.officer, submission_id, ctx.settings.inspectorate_report_recipient)
    if format == "json":
        return Response(_submitted(row).model_dump_json(), media_type="application/json")
    return _document(row.figures, format, f"bao-cao-thanh-tra_{row.period}")


@router.get(
    "/stats/inspectorate-report/submissions/{submission_id}/diff",
    response_model=InspectorateDiffOut,
    summary="Số liệu đã thay đổi kể từ khi gửi báo cáo",
    responses=http_errors.responses(403, 404),
)
async def diff_inspectorate_report(submission_id: Id32, ctx: Ctx) -> InspectorateDiffOut:
    row = await report.get(ctx.session, ctx.officer, submission_id, ctx.settings.inspectorate_report_recipient)
    changes = await report.diff(ctx.session, ctx.officer, row, clock.today(), ctx.env.cal)
    return InspectorateDiffOut(report_id=row.id or 0, changed=bool(changes), changes=changes)
